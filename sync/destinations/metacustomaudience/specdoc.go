package metacustomaudience

// specDoc is the reference page's body.
const specDoc = `Keeps a Meta [customer-file custom audience](https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences)
equal to the segment (mode ` + "`mirror`" + `) or adds to it (mode ` + "`upsert`" + `). Destination fields are Meta's
multi-key schema keys: ` + "`EMAIL`, `PHONE`, `FN`, `LN`, `FI`, `COUNTRY`, `CT`, `ST`, `ZIP`, `GEN`, `DOBY`, `DOBM`, `DOBD`" + `
(PII, which must be mapped with a [hashing profile](../hashing.md): ` + "`validate`" + ` refuses one without) and
` + "`MADID`, `EXTERN_ID`" + ` (sent as they are). Use the profile that follows Meta's rules: ` + "`meta_email`" + ` for
` + "`EMAIL`" + `, ` + "`meta_phone`" + ` for ` + "`PHONE`" + ` (digits with the country code, no ` + "`+`" + `),
` + "`meta_name`" + ` for ` + "`FN`, `LN`, `FI`" + `, ` + "`meta_country`" + ` for ` + "`COUNTRY`" + `; another profile is
a warning. Keep PII out of the sync's key (` + "`key: profile_id`" + `): the key is never sent, but it is what the CDP stores.

` + "```yaml" + `
destinations:
  - name: meta_vip
    type: meta_custom_audience
    access_token: ${META_ACCESS_TOKEN}
    app_secret: ${META_APP_SECRET}
    audience_id: "23851234567890123"
syncs:
  - name: vip_to_meta
    segment: vip
    destination: meta_vip
    mode: mirror
    key: profile_id
    fields:
      EMAIL:   { trait: email, hash: meta_email }
      PHONE:   { trait: phone, hash: meta_phone }
      FN:      { trait: first_name, hash: meta_name }
      COUNTRY: { trait: country, hash: meta_country }
` + "```" + `

Each batch is one ` + "`POST`" + ` (and, for leavers, one ` + "`DELETE`" + `) of ` + "`/{api_version}/{audience_id}/users`" + `
with ` + "`payload{schema, data}`" + ` — a row per person, an unknown value left blank, a row without EMAIL, PHONE, MADID
or EXTERN_ID rejected before sending — and ` + "`session{session_id, batch_seq: 1, last_batch_flag: true}`" + ` (one session per request: a
run cannot know its last batch, and a retried batch must not land in a closed session). Every request carries
` + "`access_token`" + ` and ` + "`appsecret_proof`" + ` (the hex HMAC-SHA256 of the token keyed by ` + "`app_secret`" + `) as
form fields. A record whose identifier (EMAIL, PHONE, MADID, EXTERN_ID) changed is first removed with the row last sent
(kept as its remote ID), then added again: the old hash does not stay in the audience.

Entries Meta lists in ` + "`invalid_entry_samples`" + ` reject their records (they are sent again by the next run);
` + "`num_received`" + ` and ` + "`num_invalid_entries`" + ` are summed into the run's match report (` + "`cdp sync history`" + `).
Error codes 4, 17, 32, 613 and 80003 are Meta's throttling: retried after ` + "`estimated_time_to_regain_access`" + ` of the
` + "`X-Business-Use-Case-Usage`" + ` header; 190 (invalid token) and permission errors stop the run.
Changes reach ads within about 24 hours (Meta's processing), not when the run ends.

A withdrawn consent (ads personalization) and ` + "`cdp forget`" + ` both remove the person from the audience with the same
` + "`DELETE /{api_version}/{audience_id}/users`" + ` as a removal, with the row last sent, in any mode: a custom audience holds
only the hashes the sync uploaded, and removing them is Meta's documented primitive. The receipt is Meta's ` + "`session_id`" + `
and ` + "`num_received`" + `; Meta does not say whether the hashes matched anyone. Removal from every audience of the ad
account (` + "`DELETE /act_{ad_account_id}/usersofanyaudience`" + `) is not sent.`
