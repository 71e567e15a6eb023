-- before the first node of every run (idempotent)
-- libphonenumber's metadata, once per version
CREATE TABLE IF NOT EXISTS "cdp"."cdp_phone_regions_4bb521d638" ("chunk" BIGINT, "id" VARCHAR, "cc" VARCHAR, "ord" BIGINT, "nregions" BIGINT, "idd" VARCHAR, "npp" VARCHAR, "npt" VARCHAR, "probe" VARCHAR, "general" VARCHAR, "lengths" VARCHAR, "min_length" BIGINT, "max_length" BIGINT, "local_lengths" VARCHAR, "leading_digits" VARCHAR, "t0" VARCHAR, "t0_lengths" VARCHAR, "t1" VARCHAR, "t1_lengths" VARCHAR, "t2" VARCHAR, "t2_lengths" VARCHAR, "t3" VARCHAR, "t3_lengths" VARCHAR, "t4" VARCHAR, "t4_lengths" VARCHAR, "t5" VARCHAR, "t5_lengths" VARCHAR, "t6" VARCHAR, "t6_lengths" VARCHAR, "t7" VARCHAR, "t7_lengths" VARCHAR, "t8" VARCHAR, "t8_lengths" VARCHAR, "t9" VARCHAR, "t9_lengths" VARCHAR);
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 44519 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 50655 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 29844 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 32763 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 32775 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 33119 more bytes of literal rows
INSERT INTO "cdp"."cdp_phone_regions_4bb521d638" ("chunk", "id", "cc", "ord", "nregions", "idd", "npp", "npt", "probe", "general", "lengths", "min_length", "max_length", "local_lengths", "leading_digits", "t0", "t0_lengths", "t1", "t1_lengths", "t2", "t2_lengths", "t3", "t3_lengths", "t4", "t4_lengths", "t5", "t5_lengths", "t6", "t6_lengths", "t7", "t7_lengths", "t8", "t8_lengths", "t9", "t9_lengths")
-- … 13133 more bytes of literal rows
-- node: source.crm_contacts (models/sources.yml:11)
-- the phone map of the source: one row per (value, region)
CREATE TABLE IF NOT EXISTS "cdp"."customer_phone_map_crm_contacts_4bb521d638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of crm_contacts not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, COALESCE(NULLIF(TRANSLATE(trim(CAST(src."country" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS region FROM "cdp"."seed_crm_contacts" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_crm_contacts_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- store them in the phone map
INSERT INTO "cdp"."customer_phone_map_crm_contacts_4bb521d638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
WITH ph_in AS MATERIALIZED (
SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, COALESCE(NULLIF(TRANSLATE(trim(CAST(src."country" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS region FROM "cdp"."seed_crm_contacts" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_crm_contacts_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh
),
ph_ctx AS MATERIALIZED (
SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM ph_in
),
ph_ctx2 AS MATERIALIZED (
SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM ph_ctx
),
ph_nat AS MATERIALIZED (
SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT (regexp_matches(ctx, '^\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') OR regexp_matches(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\.?$')))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN regexp_matches(s, '[+＋0-9]') THEN regexp_replace(regexp_replace(s, '^[^+＋0-9]+', '', 'g'), '[\\/] *x(?:.|\n)*$', '', 'g') ELSE '' END END AS nn0
FROM ph_ctx2
),
ph_nat2 AS MATERIALIZED (
SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM ph_nat
),
ph_ext AS MATERIALIZED (
SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND regexp_matches(lower(nn1), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) AS viable,
  LENGTH(regexp_replace(lower(nn1), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '', 'g')) AS ext_at
FROM ph_nat2
),
ph_nn AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, regexp_matches(nn1, '[+＋]') AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND regexp_matches(lower(SUBSTR(nn1, 1, ext_at)), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM ph_ext
),
ph_rest AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, regexp_matches(nn, '^[+＋]') AS plus,
  regexp_replace(nn, '^[+＋]+', '', 'g') AS rest
FROM ph_nn
),
ph_d AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus,
  regexp_replace(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(regexp_replace(rest, '[^A-Za-z]', '', 'g')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '', 'g') AS dg
FROM ph_rest
),
ph_idd AS MATERIALIZED (
SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(regexp_replace(dg, '^(?:' || r.idd || ')', '')) ELSE 0 END AS idd_len
FROM ph_d k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_cc AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM ph_idd
),
ph_p1 AS MATERIALIZED (
SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT regexp_matches(k.p0, '^(?:' || r.npp || ')') THEN k.p0 WHEN r.npt <> '' AND regexp_matches(k.p0, r.probe) THEN regexp_replace(k.p0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(regexp_replace(k.p0, '^(?:' || r.npp || ')', '')) + 1) END AS p_cand
FROM ph_cc k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p2 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.p0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.p_cand, '^(?:' || r.general || ')$') THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE regexp_matches(k.dg, '^(?:' || r.general || ')$') END AS dg_valid
FROM ph_p1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p3 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE regexp_matches(k.p1, '^(?:' || r.general || ')$') END AS p1_valid
FROM ph_p2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_pick AS MATERIALIZED (
SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM ph_p3
),
ph_m AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM ph_pick k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mr ON NOT k.cc_found AND mr.id = k.region
),
ph_s1 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT regexp_matches(k.n0, '^(?:' || r.npp || ')') THEN k.n0 WHEN r.npt <> '' AND regexp_matches(k.n0, r.probe) THEN regexp_replace(k.n0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(regexp_replace(k.n0, '^(?:' || r.npp || ')', '')) + 1) END AS n_cand
FROM ph_m k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_s2 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.n0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.n_cand, '^(?:' || r.general || ')$') THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM ph_s1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_n AS MATERIALIZED (
SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM ph_s2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_len AS MATERIALIZED (
SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM ph_n
),
ph_cand AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.general || ')$')) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t0 || ')$'))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t1 || ')$'))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t2 || ')$'))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t3 || ')$'))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t4 || ')$'))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t5 || ')$'))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t6 || ')$'))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t7 || ')$'))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t8 || ')$'))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t9 || ')$')))) AS ok
FROM ph_len k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" c ON c.cc = k.cc AND k.reason IS NULL
),
ph_claim AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN regexp_matches(k.nsn, '^(?:' || k.leading_digits || ')') THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM ph_cand k
),
ph_valid AS MATERIALIZED (
SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM ph_claim
GROUP BY raw, region
)
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM ph_valid k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_crm_contacts" AS SELECT
  v.*,
  pm_1.e164 AS "_cdp_id_1",
  CASE WHEN v."_cdp_raw_1" IS NULL OR v."_cdp_raw_1" = '' THEN NULL WHEN trim(v."_cdp_raw_1", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_1.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_1.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_cdp_region_1" <> '' THEN pm_1.reason || ' for ' || v."_cdp_region_1" ELSE pm_1.reason END AS "_cdp_invalid_1"
FROM (
SELECT
  src.*,
  CAST(src."updated_at" AS TIMESTAMP) AS "_cdp_ts",
  CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END AS "_cdp_id_0",
  CAST(src."email" AS VARCHAR) AS "_cdp_raw_0",
  CASE WHEN CAST(src."email" AS VARCHAR) IS NULL OR CAST(src."email" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END IS NULL THEN 'not an email' END AS "_cdp_invalid_0",
  CAST(src."phone" AS VARCHAR) AS "_cdp_raw_1",
  COALESCE(NULLIF(TRANSLATE(trim(CAST(src."country" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS "_cdp_region_1",
  NULLIF(lower(trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '') AS "_cdp_id_2",
  CAST(src."loyalty_card" AS VARCHAR) AS "_cdp_raw_2",
  CASE WHEN CAST(src."loyalty_card" AS VARCHAR) IS NULL OR CAST(src."loyalty_card" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(lower(trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_2",
  NULLIF(trim(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_cdp_id_3",
  CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) AS "_cdp_raw_3",
  CASE WHEN CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) IS NULL OR CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) = '' THEN NULL WHEN trim(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(trim(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_3"
FROM "cdp"."seed_crm_contacts" AS src
) AS v
LEFT JOIN "cdp"."customer_phone_map_crm_contacts_4bb521d638" AS pm_1 ON pm_1.raw = v."_cdp_raw_1" AND pm_1.region = v."_cdp_region_1";

-- node: source.shop_customers (models/sources.yml:26)
-- the phone map of the source: one row per (value, region)
CREATE TABLE IF NOT EXISTS "cdp"."customer_phone_map_shop_customers_4bb521d638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of shop_customers not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, 'FR' AS region FROM "cdp"."seed_shop_customers" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_shop_customers_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- store them in the phone map
INSERT INTO "cdp"."customer_phone_map_shop_customers_4bb521d638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
WITH ph_in AS MATERIALIZED (
SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, 'FR' AS region FROM "cdp"."seed_shop_customers" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_shop_customers_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh
),
ph_ctx AS MATERIALIZED (
SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM ph_in
),
ph_ctx2 AS MATERIALIZED (
SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM ph_ctx
),
ph_nat AS MATERIALIZED (
SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT (regexp_matches(ctx, '^\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') OR regexp_matches(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\.?$')))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN regexp_matches(s, '[+＋0-9]') THEN regexp_replace(regexp_replace(s, '^[^+＋0-9]+', '', 'g'), '[\\/] *x(?:.|\n)*$', '', 'g') ELSE '' END END AS nn0
FROM ph_ctx2
),
ph_nat2 AS MATERIALIZED (
SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM ph_nat
),
ph_ext AS MATERIALIZED (
SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND regexp_matches(lower(nn1), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) AS viable,
  LENGTH(regexp_replace(lower(nn1), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '', 'g')) AS ext_at
FROM ph_nat2
),
ph_nn AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, regexp_matches(nn1, '[+＋]') AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND regexp_matches(lower(SUBSTR(nn1, 1, ext_at)), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM ph_ext
),
ph_rest AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, regexp_matches(nn, '^[+＋]') AS plus,
  regexp_replace(nn, '^[+＋]+', '', 'g') AS rest
FROM ph_nn
),
ph_d AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus,
  regexp_replace(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(regexp_replace(rest, '[^A-Za-z]', '', 'g')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '', 'g') AS dg
FROM ph_rest
),
ph_idd AS MATERIALIZED (
SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(regexp_replace(dg, '^(?:' || r.idd || ')', '')) ELSE 0 END AS idd_len
FROM ph_d k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_cc AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM ph_idd
),
ph_p1 AS MATERIALIZED (
SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT regexp_matches(k.p0, '^(?:' || r.npp || ')') THEN k.p0 WHEN r.npt <> '' AND regexp_matches(k.p0, r.probe) THEN regexp_replace(k.p0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(regexp_replace(k.p0, '^(?:' || r.npp || ')', '')) + 1) END AS p_cand
FROM ph_cc k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p2 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.p0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.p_cand, '^(?:' || r.general || ')$') THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE regexp_matches(k.dg, '^(?:' || r.general || ')$') END AS dg_valid
FROM ph_p1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p3 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE regexp_matches(k.p1, '^(?:' || r.general || ')$') END AS p1_valid
FROM ph_p2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_pick AS MATERIALIZED (
SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM ph_p3
),
ph_m AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM ph_pick k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mr ON NOT k.cc_found AND mr.id = k.region
),
ph_s1 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT regexp_matches(k.n0, '^(?:' || r.npp || ')') THEN k.n0 WHEN r.npt <> '' AND regexp_matches(k.n0, r.probe) THEN regexp_replace(k.n0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(regexp_replace(k.n0, '^(?:' || r.npp || ')', '')) + 1) END AS n_cand
FROM ph_m k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_s2 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.n0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.n_cand, '^(?:' || r.general || ')$') THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM ph_s1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_n AS MATERIALIZED (
SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM ph_s2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_len AS MATERIALIZED (
SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM ph_n
),
ph_cand AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.general || ')$')) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t0 || ')$'))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t1 || ')$'))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t2 || ')$'))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t3 || ')$'))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t4 || ')$'))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t5 || ')$'))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t6 || ')$'))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t7 || ')$'))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t8 || ')$'))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t9 || ')$')))) AS ok
FROM ph_len k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" c ON c.cc = k.cc AND k.reason IS NULL
),
ph_claim AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN regexp_matches(k.nsn, '^(?:' || k.leading_digits || ')') THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM ph_cand k
),
ph_valid AS MATERIALIZED (
SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM ph_claim
GROUP BY raw, region
)
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM ph_valid k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_shop_customers" AS SELECT
  v.*,
  pm_2.e164 AS "_cdp_id_2",
  CASE WHEN v."_cdp_raw_2" IS NULL OR v."_cdp_raw_2" = '' THEN NULL WHEN trim(v."_cdp_raw_2", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_2.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_2.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_cdp_region_2" <> '' THEN pm_2.reason || ' for ' || v."_cdp_region_2" ELSE pm_2.reason END AS "_cdp_invalid_2"
FROM (
SELECT
  src.*,
  CAST(src."signup_at" AS TIMESTAMP) AS "_cdp_ts",
  NULLIF(trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_cdp_id_0",
  CAST(src."customer_id" AS VARCHAR) AS "_cdp_raw_0",
  CASE WHEN CAST(src."customer_id" AS VARCHAR) IS NULL OR CAST(src."customer_id" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_0",
  CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END AS "_cdp_id_1",
  CAST(src."email" AS VARCHAR) AS "_cdp_raw_1",
  CASE WHEN CAST(src."email" AS VARCHAR) IS NULL OR CAST(src."email" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END IS NULL THEN 'not an email' END AS "_cdp_invalid_1",
  CAST(src."phone" AS VARCHAR) AS "_cdp_raw_2",
  'FR' AS "_cdp_region_2"
FROM "cdp"."seed_shop_customers" AS src
) AS v
LEFT JOIN "cdp"."customer_phone_map_shop_customers_4bb521d638" AS pm_2 ON pm_2.raw = v."_cdp_raw_2" AND pm_2.region = v."_cdp_region_2";

-- node: source.orders (models/sources.yml:40)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_orders" AS SELECT
  src.*,
  CAST(src."ordered_at" AS TIMESTAMP) AS "_cdp_ts",
  NULLIF(trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_cdp_id_0",
  CAST(src."customer_id" AS VARCHAR) AS "_cdp_raw_0",
  CASE WHEN CAST(src."customer_id" AS VARCHAR) IS NULL OR CAST(src."customer_id" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(trim(CAST(src."customer_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_0",
  CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END AS "_cdp_id_1",
  CAST(src."email" AS VARCHAR) AS "_cdp_raw_1",
  CASE WHEN CAST(src."email" AS VARCHAR) IS NULL OR CAST(src."email" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END IS NULL THEN 'not an email' END AS "_cdp_invalid_1"
FROM (
select order_id, customer_id, email, amount, currency, status, ordered_at,
       CASE currency
         WHEN 'GBP' THEN CAST(amount AS NUMERIC(12, 2)) * 1.17
         WHEN 'USD' THEN CAST(amount AS NUMERIC(12, 2)) * 0.92
         ELSE CAST(amount AS NUMERIC(12, 2))
       END AS amount_eur
from cdp.seed_orders
) AS src;

-- node: source.pos_transactions (models/sources.yml:58)
-- the phone map of the source: one row per (value, region)
CREATE TABLE IF NOT EXISTS "cdp"."customer_phone_map_pos_transactions_4bb521d638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of pos_transactions not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, 'FR' AS region FROM "cdp"."seed_pos_transactions" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_pos_transactions_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- store them in the phone map
INSERT INTO "cdp"."customer_phone_map_pos_transactions_4bb521d638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
WITH ph_in AS MATERIALIZED (
SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."phone" AS VARCHAR) AS raw, 'FR' AS region FROM "cdp"."seed_pos_transactions" AS src
) AS pairs
WHERE raw IS NOT NULL AND trim(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "cdp"."customer_phone_map_pos_transactions_4bb521d638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh
),
ph_ctx AS MATERIALIZED (
SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM ph_in
),
ph_ctx2 AS MATERIALIZED (
SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM ph_ctx
),
ph_nat AS MATERIALIZED (
SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT (regexp_matches(ctx, '^\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') OR regexp_matches(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\.?$')))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN regexp_matches(s, '[+＋0-9]') THEN regexp_replace(regexp_replace(s, '^[^+＋0-9]+', '', 'g'), '[\\/] *x(?:.|\n)*$', '', 'g') ELSE '' END END AS nn0
FROM ph_ctx2
),
ph_nat2 AS MATERIALIZED (
SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM ph_nat
),
ph_ext AS MATERIALIZED (
SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND regexp_matches(lower(nn1), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) AS viable,
  LENGTH(regexp_replace(lower(nn1), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '', 'g')) AS ext_at
FROM ph_nat2
),
ph_nn AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, regexp_matches(nn1, '[+＋]') AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND regexp_matches(lower(SUBSTR(nn1, 1, ext_at)), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\[\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$')) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM ph_ext
),
ph_rest AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, regexp_matches(nn, '^[+＋]') AS plus,
  regexp_replace(nn, '^[+＋]+', '', 'g') AS rest
FROM ph_nn
),
ph_d AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus,
  regexp_replace(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(regexp_replace(rest, '[^A-Za-z]', '', 'g')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '', 'g') AS dg
FROM ph_rest
),
ph_idd AS MATERIALIZED (
SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(regexp_replace(dg, '^(?:' || r.idd || ')', '')) ELSE 0 END AS idd_len
FROM ph_d k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_cc AS MATERIALIZED (
SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM ph_idd
),
ph_p1 AS MATERIALIZED (
SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT regexp_matches(k.p0, '^(?:' || r.npp || ')') THEN k.p0 WHEN r.npt <> '' AND regexp_matches(k.p0, r.probe) THEN regexp_replace(k.p0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(regexp_replace(k.p0, '^(?:' || r.npp || ')', '')) + 1) END AS p_cand
FROM ph_cc k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p2 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.p0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.p_cand, '^(?:' || r.general || ')$') THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE regexp_matches(k.dg, '^(?:' || r.general || ')$') END AS dg_valid
FROM ph_p1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_p3 AS MATERIALIZED (
SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE regexp_matches(k.p1, '^(?:' || r.general || ')$') END AS p1_valid
FROM ph_p2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.region
),
ph_pick AS MATERIALIZED (
SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM ph_p3
),
ph_m AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM ph_pick k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mr ON NOT k.cc_found AND mr.id = k.region
),
ph_s1 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT regexp_matches(k.n0, '^(?:' || r.npp || ')') THEN k.n0 WHEN r.npt <> '' AND regexp_matches(k.n0, r.probe) THEN regexp_replace(k.n0, '^(?:' || r.npp || ')', r.npt) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(regexp_replace(k.n0, '^(?:' || r.npp || ')', '')) + 1) END AS n_cand
FROM ph_m k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_s2 AS MATERIALIZED (
SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND regexp_matches(k.n0, '^(?:' || r.general || ')$') AND NOT regexp_matches(k.n_cand, '^(?:' || r.general || ')$') THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM ph_s1 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_n AS MATERIALIZED (
SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM ph_s2 k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" r ON r.id = k.meta_id
),
ph_len AS MATERIALIZED (
SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM ph_n
),
ph_cand AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.general || ')$')) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t0 || ')$'))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t1 || ')$'))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t2 || ')$'))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t3 || ')$'))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t4 || ')$'))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t5 || ')$'))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t6 || ')$'))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t7 || ')$'))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t8 || ')$'))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND regexp_matches(k.nsn, '^(?:' || c.t9 || ')$')))) AS ok
FROM ph_len k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" c ON c.cc = k.cc AND k.reason IS NULL
),
ph_claim AS MATERIALIZED (
SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN regexp_matches(k.nsn, '^(?:' || k.leading_digits || ')') THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM ph_cand k
),
ph_valid AS MATERIALIZED (
SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM ph_claim
GROUP BY raw, region
)
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM ph_valid k LEFT JOIN "cdp"."cdp_phone_regions_4bb521d638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_pos_transactions" AS SELECT
  v.*,
  pm_2.e164 AS "_cdp_id_2",
  CASE WHEN v."_cdp_raw_2" IS NULL OR v."_cdp_raw_2" = '' THEN NULL WHEN trim(v."_cdp_raw_2", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_2.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_2.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_cdp_region_2" <> '' THEN pm_2.reason || ' for ' || v."_cdp_region_2" ELSE pm_2.reason END AS "_cdp_invalid_2"
FROM (
SELECT
  src.*,
  CAST(src."occurred_at" AS TIMESTAMP) AS "_cdp_ts",
  NULLIF(lower(trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '') AS "_cdp_id_0",
  CAST(src."loyalty_card" AS VARCHAR) AS "_cdp_raw_0",
  CASE WHEN CAST(src."loyalty_card" AS VARCHAR) IS NULL OR CAST(src."loyalty_card" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(lower(trim(CAST(src."loyalty_card" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_0",
  CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END AS "_cdp_id_1",
  CAST(src."email" AS VARCHAR) AS "_cdp_raw_1",
  CASE WHEN CAST(src."email" AS VARCHAR) IS NULL OR CAST(src."email" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END IS NULL THEN 'not an email' END AS "_cdp_invalid_1",
  CAST(src."phone" AS VARCHAR) AS "_cdp_raw_2",
  'FR' AS "_cdp_region_2"
FROM "cdp"."seed_pos_transactions" AS src
) AS v
LEFT JOIN "cdp"."customer_phone_map_pos_transactions_4bb521d638" AS pm_2 ON pm_2.raw = v."_cdp_raw_2" AND pm_2.region = v."_cdp_region_2";

-- node: source.web_events (models/sources.yml:70)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_web_events" AS SELECT
  src.*,
  CAST(src."occurred_at" AS TIMESTAMP) AS "_cdp_ts",
  NULLIF(CAST(src."anonymous_id" AS VARCHAR), '') AS "_cdp_id_0",
  CAST(src."anonymous_id" AS VARCHAR) AS "_cdp_raw_0",
  CAST(NULL AS VARCHAR) AS "_cdp_invalid_0",
  NULLIF(trim(CAST(src."user_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_cdp_id_1",
  CAST(src."user_id" AS VARCHAR) AS "_cdp_raw_1",
  CASE WHEN CAST(src."user_id" AS VARCHAR) IS NULL OR CAST(src."user_id" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."user_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(trim(CAST(src."user_id" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_cdp_invalid_1"
FROM "cdp"."seed_web_events" AS src;

-- node: source.consent_events (models/sources.yml:82)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "cdp"."customer_src_consent_events" AS SELECT
  src.*,
  CAST(src."occurred_at" AS TIMESTAMP) AS "_cdp_ts",
  CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END AS "_cdp_id_0",
  CAST(src."email" AS VARCHAR) AS "_cdp_raw_0",
  CASE WHEN CAST(src."email" AS VARCHAR) IS NULL OR CAST(src."email" AS VARCHAR) = '' THEN NULL WHEN trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN regexp_matches(lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\.[^@	
                  　᠎​‌‍⁠﻿]+$') THEN lower(trim(CAST(src."email" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) END IS NULL THEN 'not an email' END AS "_cdp_invalid_0"
FROM "cdp"."seed_consent_events" AS src;

-- node: identity.customer (models/identity.yml:9)
-- the rows of crm_contacts read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_crm_contacts" AS SELECT * FROM "cdp"."customer_src_crm_contacts" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- the rows of shop_customers read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_shop_customers" AS SELECT * FROM "cdp"."customer_src_shop_customers" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- the rows of orders read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_orders" AS SELECT * FROM "cdp"."customer_src_orders" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- the rows of pos_transactions read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_pos_transactions" AS SELECT * FROM "cdp"."customer_src_pos_transactions" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- the rows of web_events read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_web_events" AS SELECT * FROM "cdp"."customer_src_web_events" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- the rows of consent_events read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_batch_consent_events" AS SELECT * FROM "cdp"."customer_src_consent_events" WHERE ("_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR "_cdp_ts" IS NULL);
-- occurrences: the identifiers of the rows read this run
CREATE OR REPLACE TABLE "cdp"."customer__id_occ" AS SELECT 'email' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'crm_contacts' AS source FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_0" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_cdp_id_1" AS id_value, "_cdp_ts" AS ts, 'crm_contacts' AS source FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_1" IS NOT NULL
UNION ALL
SELECT 'loyalty_card' AS id_type, "_cdp_id_2" AS id_value, "_cdp_ts" AS ts, 'crm_contacts' AS source FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_2" IS NOT NULL
UNION ALL
SELECT 'crm_id' AS id_type, "_cdp_id_3" AS id_value, "_cdp_ts" AS ts, 'crm_contacts' AS source FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_3" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'shop_customers' AS source FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_cdp_id_1" AS id_value, "_cdp_ts" AS ts, 'shop_customers' AS source FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_1" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_cdp_id_2" AS id_value, "_cdp_ts" AS ts, 'shop_customers' AS source FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_2" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'orders' AS source FROM "cdp"."customer__id_batch_orders" WHERE "_cdp_id_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_cdp_id_1" AS id_value, "_cdp_ts" AS ts, 'orders' AS source FROM "cdp"."customer__id_batch_orders" WHERE "_cdp_id_1" IS NOT NULL
UNION ALL
SELECT 'loyalty_card' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'pos_transactions' AS source FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_cdp_id_1" AS id_value, "_cdp_ts" AS ts, 'pos_transactions' AS source FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_1" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_cdp_id_2" AS id_value, "_cdp_ts" AS ts, 'pos_transactions' AS source FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_2" IS NOT NULL
UNION ALL
SELECT 'anonymous_id' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'web_events' AS source FROM "cdp"."customer__id_batch_web_events" WHERE "_cdp_id_0" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_cdp_id_1" AS id_value, "_cdp_ts" AS ts, 'web_events' AS source FROM "cdp"."customer__id_batch_web_events" WHERE "_cdp_id_1" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_cdp_id_0" AS id_value, "_cdp_ts" AS ts, 'consent_events' AS source FROM "cdp"."customer__id_batch_consent_events" WHERE "_cdp_id_0" IS NOT NULL;
-- per identifier and source: earliest and latest row
CREATE OR REPLACE TABLE "cdp"."customer__id_srcnodes" AS SELECT id_type, id_value, source, MIN(ts) AS min_ts, MAX(ts) AS max_ts
FROM "cdp"."customer__id_occ"
GROUP BY id_type, id_value, source;
-- invalid: values of the rows read this run a normalizer rejected
CREATE OR REPLACE TABLE "cdp"."customer__id_invalid" AS SELECT DISTINCT id_type, id_value, reason FROM (
  SELECT 'email' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_invalid_0" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_cdp_raw_1" AS id_value, "_cdp_invalid_1" AS reason FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_invalid_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS id_type, "_cdp_raw_2" AS id_value, "_cdp_invalid_2" AS reason FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_invalid_2" IS NOT NULL
  UNION ALL
  SELECT 'crm_id' AS id_type, "_cdp_raw_3" AS id_value, "_cdp_invalid_3" AS reason FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_invalid_3" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_invalid_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_cdp_raw_1" AS id_value, "_cdp_invalid_1" AS reason FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_invalid_1" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_cdp_raw_2" AS id_value, "_cdp_invalid_2" AS reason FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_invalid_2" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_orders" WHERE "_cdp_invalid_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_cdp_raw_1" AS id_value, "_cdp_invalid_1" AS reason FROM "cdp"."customer__id_batch_orders" WHERE "_cdp_invalid_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_invalid_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_cdp_raw_1" AS id_value, "_cdp_invalid_1" AS reason FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_invalid_1" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_cdp_raw_2" AS id_value, "_cdp_invalid_2" AS reason FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_invalid_2" IS NOT NULL
  UNION ALL
  SELECT 'anonymous_id' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_web_events" WHERE "_cdp_invalid_0" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_cdp_raw_1" AS id_value, "_cdp_invalid_1" AS reason FROM "cdp"."customer__id_batch_web_events" WHERE "_cdp_invalid_1" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_cdp_raw_0" AS id_value, "_cdp_invalid_0" AS reason FROM "cdp"."customer__id_batch_consent_events" WHERE "_cdp_invalid_0" IS NOT NULL
) i;
-- state: the graph's identifiers (empty before a first run)
CREATE TABLE IF NOT EXISTS "cdp"."customer_identity_nodes" ("node_id" BIGINT, "id_type" VARCHAR, "id_value" VARCHAR, "type_rank" BIGINT, "excluded_by" VARCHAR, "label" BIGINT);
-- new identifiers, numbered after the known ones in byte order
CREATE OR REPLACE TABLE "cdp"."customer__id_new_nodes" AS SELECT (SELECT COALESCE(MAX(node_id), 0) FROM "cdp"."customer_identity_nodes") + ROW_NUMBER() OVER (ORDER BY (id_type COLLATE "binary"), (id_value COLLATE "binary")) AS node_id,
  id_type, id_value, CASE id_type WHEN 'user_id' THEN 0 WHEN 'email' THEN 1 WHEN 'crm_id' THEN 2 WHEN 'loyalty_card' THEN 3 WHEN 'phone' THEN 4 WHEN 'anonymous_id' THEN 5 ELSE 6 END AS type_rank, CASE WHEN id_type = 'email' AND regexp_matches(id_value, '@example\.(com|org|net)$') THEN 'excluded by email pattern @example\.(com|org|net)$' WHEN id_type = 'email' AND regexp_matches(id_value, '^(test|noreply|no-reply)@') THEN 'excluded by email pattern ^(test|noreply|no-reply)@' WHEN id_type = 'email' AND regexp_matches(id_value, '^[^@]*$') THEN 'excluded by email pattern ^[^@]*$' WHEN id_type = 'phone' AND regexp_matches(id_value, '^\+?0+$') THEN 'excluded by phone pattern ^\+?0+$' WHEN id_type = 'phone' AND regexp_matches(id_value, '^\+330+$') THEN 'excluded by phone pattern ^\+330+$' END AS excluded_by
FROM (SELECT DISTINCT id_type, id_value FROM "cdp"."customer__id_srcnodes") s
WHERE NOT EXISTS (SELECT 1 FROM "cdp"."customer_identity_nodes" n WHERE n.id_type = s.id_type AND n.id_value = s.id_value);
-- the batch's identifiers with their node
CREATE OR REPLACE TABLE "cdp"."customer__id_bids" AS SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by
FROM (
  SELECT node_id, id_type, id_value, type_rank, excluded_by FROM "cdp"."customer_identity_nodes"
  UNION ALL
  SELECT node_id, id_type, id_value, type_rank, excluded_by FROM "cdp"."customer__id_new_nodes"
) n
JOIN (SELECT DISTINCT id_type, id_value FROM "cdp"."customer__id_srcnodes") s ON s.id_type = n.id_type AND s.id_value = n.id_value;
-- state: per identifier and source
CREATE TABLE IF NOT EXISTS "cdp"."customer_identity_node_sources" ("node_id" BIGINT, "source" VARCHAR, "min_ts" TIMESTAMP, "max_ts" TIMESTAMP);
-- state: links
CREATE TABLE IF NOT EXISTS "cdp"."customer_identity_edges" ("a" BIGINT, "b" BIGINT, "tier" BIGINT, "ts" TIMESTAMP);
-- (identifier, source) rows the batch adds, or makes earlier or later
CREATE OR REPLACE TABLE "cdp"."customer__id_ns_changed" AS SELECT i.node_id, s.source, CASE WHEN o.min_ts IS NULL THEN s.min_ts WHEN s.min_ts IS NULL THEN o.min_ts WHEN o.min_ts < s.min_ts THEN o.min_ts ELSE s.min_ts END AS min_ts, CASE WHEN o.max_ts IS NULL THEN s.max_ts WHEN s.max_ts IS NULL THEN o.max_ts WHEN o.max_ts > s.max_ts THEN o.max_ts ELSE s.max_ts END AS max_ts
FROM "cdp"."customer__id_srcnodes" s
JOIN "cdp"."customer__id_bids" i ON i.id_type = s.id_type AND i.id_value = s.id_value AND i.excluded_by IS NULL
LEFT JOIN "cdp"."customer_identity_node_sources" o ON o.node_id = i.node_id AND o.source = s.source
WHERE o.node_id IS NULL
  OR (s.min_ts IS NOT NULL AND (o.min_ts IS NULL OR s.min_ts < o.min_ts))
  OR (s.max_ts IS NOT NULL AND (o.max_ts IS NULL OR s.max_ts > o.max_ts));
-- the batch's links
CREATE OR REPLACE TABLE "cdp"."customer__id_bedges" AS SELECT LEAST(na.node_id, nb.node_id) AS a, GREATEST(na.node_id, nb.node_id) AS b,
  GREATEST(na.type_rank, nb.type_rank) AS tier, MIN(p.ts) AS ts
FROM (
  SELECT 'email' AS ta, "_cdp_id_0" AS va, 'phone' AS tb, "_cdp_id_1" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_1" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_cdp_id_0" AS va, 'loyalty_card' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_cdp_id_0" AS va, 'crm_id' AS tb, "_cdp_id_3" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_3" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS ta, "_cdp_id_1" AS va, 'loyalty_card' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_1" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS ta, "_cdp_id_1" AS va, 'crm_id' AS tb, "_cdp_id_3" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_1" IS NOT NULL AND "_cdp_id_3" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_cdp_id_2" AS va, 'crm_id' AS tb, "_cdp_id_3" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_crm_contacts" WHERE "_cdp_id_2" IS NOT NULL AND "_cdp_id_3" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_cdp_id_0" AS va, 'email' AS tb, "_cdp_id_1" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_1" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_cdp_id_0" AS va, 'phone' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_cdp_id_1" AS va, 'phone' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_shop_customers" WHERE "_cdp_id_1" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_cdp_id_0" AS va, 'email' AS tb, "_cdp_id_1" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_orders" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_cdp_id_0" AS va, 'email' AS tb, "_cdp_id_1" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_cdp_id_0" AS va, 'phone' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_cdp_id_1" AS va, 'phone' AS tb, "_cdp_id_2" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_pos_transactions" WHERE "_cdp_id_1" IS NOT NULL AND "_cdp_id_2" IS NOT NULL
  UNION ALL
  SELECT 'anonymous_id' AS ta, "_cdp_id_0" AS va, 'user_id' AS tb, "_cdp_id_1" AS vb, "_cdp_ts" AS ts FROM "cdp"."customer__id_batch_web_events" WHERE "_cdp_id_0" IS NOT NULL AND "_cdp_id_1" IS NOT NULL
) p
JOIN "cdp"."customer__id_bids" na ON na.id_type = p.ta AND na.id_value = p.va AND na.excluded_by IS NULL
JOIN "cdp"."customer__id_bids" nb ON nb.id_type = p.tb AND nb.id_value = p.vb AND nb.excluded_by IS NULL
WHERE na.node_id <> nb.node_id
GROUP BY LEAST(na.node_id, nb.node_id), GREATEST(na.node_id, nb.node_id), GREATEST(na.type_rank, nb.type_rank);
-- links the batch adds or makes earlier
CREATE OR REPLACE TABLE "cdp"."customer__id_e_changed" AS SELECT e.a, e.b, e.tier, CASE WHEN o.ts IS NULL THEN e.ts WHEN e.ts IS NULL THEN o.ts WHEN o.ts < e.ts THEN o.ts ELSE e.ts END AS ts
FROM "cdp"."customer__id_bedges" e LEFT JOIN "cdp"."customer_identity_edges" o ON o.a = e.a AND o.b = e.b
WHERE o.a IS NULL OR (e.ts IS NOT NULL AND (o.ts IS NULL OR e.ts < o.ts));
-- identifiers with a change
CREATE OR REPLACE TABLE "cdp"."customer__id_touched" AS SELECT DISTINCT node_id FROM (SELECT node_id FROM "cdp"."customer__id_ns_changed" UNION ALL SELECT a FROM "cdp"."customer__id_e_changed" UNION ALL SELECT b FROM "cdp"."customer__id_e_changed") AS u;
-- their raw components, by label (a new identifier is its own)
CREATE OR REPLACE TABLE "cdp"."customer__id_merge" AS SELECT DISTINCT COALESCE(n.label, t.node_id) AS node_id, COALESCE(n.label, t.node_id) AS label
FROM "cdp"."customer__id_touched" t LEFT JOIN "cdp"."customer_identity_nodes" n ON n.node_id = t.node_id;
-- component edges (merge)
CREATE OR REPLACE TABLE "cdp"."customer__id_merge_edges" AS SELECT DISTINCT LEAST(la, lb) AS a, GREATEST(la, lb) AS b
FROM (
  SELECT COALESCE(na.label, e.a) AS la, COALESCE(nb.label, e.b) AS lb
  FROM "cdp"."customer__id_e_changed" e LEFT JOIN "cdp"."customer_identity_nodes" na ON na.node_id = e.a LEFT JOIN "cdp"."customer_identity_nodes" nb ON nb.node_id = e.b
) x
WHERE la <> lb;
-- repeat: connected components (merge): repeat while edges remain
--   while (SELECT COUNT(*) FROM "cdp"."customer__id_merge_edges") > 0, at most 200 rounds
--   -- hook: each label points at its smallest neighbour
CREATE OR REPLACE TABLE "cdp"."customer__id_merge_hook" AS SELECT x, LEAST(x, MIN(y)) AS p FROM (SELECT a AS x, b AS y FROM "cdp"."customer__id_merge_edges" UNION ALL SELECT b AS x, a AS y FROM "cdp"."customer__id_merge_edges") n GROUP BY x;
--   -- repeat: pointer jumping: every label points at its root
--   --   while (SELECT COUNT(*) FROM "cdp"."customer__id_merge_hook" h JOIN "cdp"."customer__id_merge_hook" h2 ON h2.x = h.p WHERE h2.p <> h.p) > 0, at most 64 rounds
--   --   -- jump
UPDATE "cdp"."customer__id_merge_hook" AS h SET p = h2.p FROM "cdp"."customer__id_merge_hook" AS h2 WHERE h2.x = h.p AND h2.p <> h.p;
--   -- end repeat
--   -- relabel
UPDATE "cdp"."customer__id_merge" AS l SET label = h.p FROM "cdp"."customer__id_merge_hook" AS h WHERE h.x = l.label AND h.p <> l.label;
--   -- contract: edges between distinct roots
CREATE OR REPLACE TABLE "cdp"."customer__id_merge_next" AS SELECT DISTINCT LEAST(ha.p, hb.p) AS a, GREATEST(ha.p, hb.p) AS b
FROM "cdp"."customer__id_merge_edges" e JOIN "cdp"."customer__id_merge_hook" ha ON ha.x = e.a JOIN "cdp"."customer__id_merge_hook" hb ON hb.x = e.b
WHERE ha.p <> hb.p;
CREATE OR REPLACE TABLE "cdp"."customer__id_merge_edges" AS SELECT a, b FROM "cdp"."customer__id_merge_next";
-- end repeat
-- every identifier of the affected components, with its new raw component
CREATE OR REPLACE TABLE "cdp"."customer__id_aff" AS SELECT n.node_id AS gid, n.id_type, n.id_value, n.type_rank, m.label AS raw
FROM "cdp"."customer_identity_nodes" n JOIN "cdp"."customer__id_merge" m ON m.node_id = n.label
UNION ALL
SELECT n.node_id, n.id_type, n.id_value, n.type_rank, m.label
FROM "cdp"."customer__id_new_nodes" n JOIN "cdp"."customer__id_merge" m ON m.node_id = n.node_id
WHERE n.excluded_by IS NULL;
-- their (identifier, source) rows, merged with the batch
CREATE OR REPLACE TABLE "cdp"."customer__id_mns" AS SELECT o.node_id, o.source, o.min_ts, o.max_ts
FROM "cdp"."customer_identity_node_sources" o JOIN "cdp"."customer__id_aff" x ON x.gid = o.node_id
WHERE NOT EXISTS (SELECT 1 FROM "cdp"."customer__id_ns_changed" c WHERE c.node_id = o.node_id AND c.source = o.source)
UNION ALL
SELECT node_id, source, min_ts, max_ts FROM "cdp"."customer__id_ns_changed";
-- nodes: the affected identifiers, numbered in byte order
CREATE OR REPLACE TABLE "cdp"."customer__id_nodes" AS SELECT ROW_NUMBER() OVER (ORDER BY (a.id_type COLLATE "binary"), (a.id_value COLLATE "binary")) AS node_id, a.gid, a.raw, a.id_type, a.id_value,
  g.first_seen_at, g.last_seen_at, g.source_count, a.type_rank, CAST(NULL AS VARCHAR) AS excluded_by
FROM "cdp"."customer__id_aff" a
JOIN (
  SELECT node_id, COALESCE(MIN(min_ts), TIMESTAMP '2026-11-01 00:00:00.000000') AS first_seen_at, MAX(max_ts) AS last_seen_at, COUNT(*) AS source_count
  FROM "cdp"."customer__id_mns"
  GROUP BY node_id
) g ON g.node_id = a.gid;
-- every link of the affected components, merged with the batch
CREATE OR REPLACE TABLE "cdp"."customer__id_medges" AS SELECT o.a, o.b, o.tier, o.ts
FROM "cdp"."customer_identity_edges" o JOIN "cdp"."customer__id_aff" x ON x.gid = o.a
WHERE NOT EXISTS (SELECT 1 FROM "cdp"."customer__id_e_changed" c WHERE c.a = o.a AND c.b = o.b)
UNION ALL
SELECT a, b, tier, ts FROM "cdp"."customer__id_e_changed";
-- edges: those links between renumbered nodes
CREATE OR REPLACE TABLE "cdp"."customer__id_edges" AS SELECT LEAST(na.node_id, nb.node_id) AS a, GREATEST(na.node_id, nb.node_id) AS b, e.tier, e.ts
FROM "cdp"."customer__id_medges" e JOIN "cdp"."customer__id_nodes" na ON na.gid = e.a JOIN "cdp"."customer__id_nodes" nb ON nb.gid = e.b;
-- labels: each affected component, labelled by its smallest node
CREATE OR REPLACE TABLE "cdp"."customer__id_labels" AS SELECT node_id, MIN(node_id) OVER (PARTITION BY raw) AS label FROM "cdp"."customer__id_nodes";
-- components that break a limit
CREATE OR REPLACE TABLE "cdp"."customer__id_viol" AS SELECT l.label FROM "cdp"."customer__id_labels" l JOIN "cdp"."customer__id_nodes" n ON n.node_id = l.node_id GROUP BY l.label HAVING (COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) > 1 OR COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) > 3);
-- their nodes, each its own cluster to start
CREATE OR REPLACE TABLE "cdp"."customer__id_vn" AS SELECT l.node_id, l.node_id AS cluster FROM "cdp"."customer__id_labels" l WHERE l.label IN (SELECT label FROM "cdp"."customer__id_viol");
-- their links in priority order: tier, earliest timestamp, then value
CREATE OR REPLACE TABLE "cdp"."customer__id_pend" AS SELECT e.a, e.b, e.tier, ROW_NUMBER() OVER (ORDER BY e.tier, (e.ts IS NULL), e.ts, e.a, e.b) AS ord FROM "cdp"."customer__id_edges" e JOIN "cdp"."customer__id_vn" v ON v.node_id = e.a;
-- links dropped by a limit
CREATE OR REPLACE TABLE "cdp"."customer__id_rej" AS SELECT a, b, ord, CAST(NULL AS VARCHAR) AS reason FROM "cdp"."customer__id_pend" WHERE 1 = 0;
-- the tier being resolved
CREATE OR REPLACE TABLE "cdp"."customer__id_cur" AS SELECT MIN(tier) AS tier FROM "cdp"."customer__id_pend";
-- repeat: limits: rebuild breaking components tier by tier, strongest first
--   while (SELECT COUNT(*) FROM "cdp"."customer__id_pend") > 0, at most 7 rounds
--   -- clusters joined by this tier's links
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_pairs" AS SELECT DISTINCT LEAST(ca.cluster, cb.cluster) AS a, GREATEST(ca.cluster, cb.cluster) AS b
FROM "cdp"."customer__id_pend" e JOIN "cdp"."customer__id_vn" ca ON ca.node_id = e.a JOIN "cdp"."customer__id_vn" cb ON cb.node_id = e.b
WHERE e.tier = (SELECT tier FROM "cdp"."customer__id_cur") AND ca.cluster <> cb.cluster;
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_labels" AS SELECT DISTINCT x AS node_id, x AS label FROM (SELECT a AS x FROM "cdp"."customer__id_tier_pairs" UNION ALL SELECT b AS x FROM "cdp"."customer__id_tier_pairs") u;
--   -- component edges (tier)
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_edges" AS SELECT a, b FROM "cdp"."customer__id_tier_pairs";
--   -- repeat: connected components (tier): repeat while edges remain
--   --   while (SELECT COUNT(*) FROM "cdp"."customer__id_tier_edges") > 0, at most 200 rounds
--   --   -- hook: each label points at its smallest neighbour
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_hook" AS SELECT x, LEAST(x, MIN(y)) AS p FROM (SELECT a AS x, b AS y FROM "cdp"."customer__id_tier_edges" UNION ALL SELECT b AS x, a AS y FROM "cdp"."customer__id_tier_edges") n GROUP BY x;
--   --   -- repeat: pointer jumping: every label points at its root
--   --   --   while (SELECT COUNT(*) FROM "cdp"."customer__id_tier_hook" h JOIN "cdp"."customer__id_tier_hook" h2 ON h2.x = h.p WHERE h2.p <> h.p) > 0, at most 64 rounds
--   --   --   -- jump
UPDATE "cdp"."customer__id_tier_hook" AS h SET p = h2.p FROM "cdp"."customer__id_tier_hook" AS h2 WHERE h2.x = h.p AND h2.p <> h.p;
--   --   -- end repeat
--   --   -- relabel
UPDATE "cdp"."customer__id_tier_labels" AS l SET label = h.p FROM "cdp"."customer__id_tier_hook" AS h WHERE h.x = l.label AND h.p <> l.label;
--   --   -- contract: edges between distinct roots
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_next" AS SELECT DISTINCT LEAST(ha.p, hb.p) AS a, GREATEST(ha.p, hb.p) AS b
FROM "cdp"."customer__id_tier_edges" e JOIN "cdp"."customer__id_tier_hook" ha ON ha.x = e.a JOIN "cdp"."customer__id_tier_hook" hb ON hb.x = e.b
WHERE ha.p <> hb.p;
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_edges" AS SELECT a, b FROM "cdp"."customer__id_tier_next";
--   -- end repeat
--   -- groups of clusters whose union breaks a limit
CREATE OR REPLACE TABLE "cdp"."customer__id_tier_over" AS SELECT t.label FROM "cdp"."customer__id_tier_labels" t JOIN "cdp"."customer__id_vn" v ON v.cluster = t.node_id JOIN "cdp"."customer__id_nodes" n ON n.node_id = v.node_id GROUP BY t.label HAVING (COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) > 1 OR COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) > 3);
--   -- merge the groups that fit every limit
UPDATE "cdp"."customer__id_vn" AS v SET cluster = t.label FROM "cdp"."customer__id_tier_labels" AS t WHERE t.node_id = v.cluster AND t.label <> v.cluster AND t.label NOT IN (SELECT label FROM "cdp"."customer__id_tier_over");
--   -- repeat: resolve the tier's remaining links in priority order
--   --   while (SELECT COUNT(*) FROM "cdp"."customer__id_pend" WHERE tier = (SELECT tier FROM "cdp"."customer__id_cur")) > 0, at most 100000 rounds
--   --   -- pending links of the tier with their clusters
CREATE OR REPLACE TABLE "cdp"."customer__id_ec" AS SELECT e.ord, e.a, e.b, ca.cluster AS ca, cb.cluster AS cb
FROM "cdp"."customer__id_pend" e JOIN "cdp"."customer__id_vn" ca ON ca.node_id = e.a JOIN "cdp"."customer__id_vn" cb ON cb.node_id = e.b
WHERE e.tier = (SELECT tier FROM "cdp"."customer__id_cur");
--   --   -- links inside one cluster are settled
DELETE FROM "cdp"."customer__id_pend" WHERE ord IN (SELECT ord FROM "cdp"."customer__id_ec" WHERE ca = cb);
--   --   -- limited identifiers per cluster
CREATE OR REPLACE TABLE "cdp"."customer__id_cnt" AS SELECT v.cluster, COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) AS lim_0, COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) AS lim_1 FROM "cdp"."customer__id_vn" v JOIN "cdp"."customer__id_nodes" n ON n.node_id = v.node_id WHERE v.cluster IN (SELECT ca FROM "cdp"."customer__id_ec" UNION ALL SELECT cb FROM "cdp"."customer__id_ec") GROUP BY v.cluster;
--   --   -- reject links whose clusters together break a limit (clusters only grow: final)
INSERT INTO "cdp"."customer__id_rej" (a, b, ord, reason)
SELECT ec.a, ec.b, ec.ord, CASE WHEN x.lim_0 + y.lim_0 > 1 THEN 'limit: more than 1 user_id' WHEN x.lim_1 + y.lim_1 > 3 THEN 'limit: more than 3 phone' END
FROM "cdp"."customer__id_ec" ec JOIN "cdp"."customer__id_cnt" x ON x.cluster = ec.ca JOIN "cdp"."customer__id_cnt" y ON y.cluster = ec.cb
WHERE ec.ca <> ec.cb AND (x.lim_0 + y.lim_0 > 1 OR x.lim_1 + y.lim_1 > 3);
DELETE FROM "cdp"."customer__id_pend" WHERE ord IN (SELECT ord FROM "cdp"."customer__id_rej");
--   --   -- accept links that are the earliest pending link at both of their clusters
CREATE OR REPLACE TABLE "cdp"."customer__id_lm" AS WITH r AS (
  SELECT ec.ord, ec.ca, ec.cb FROM "cdp"."customer__id_ec" ec WHERE ec.ca <> ec.cb AND ec.ord NOT IN (SELECT ord FROM "cdp"."customer__id_rej")
), mo AS (
  SELECT c, MIN(ord) AS m FROM (SELECT ca AS c, ord FROM r UNION ALL SELECT cb AS c, ord FROM r) u GROUP BY c
)
SELECT r.ord, r.ca, r.cb FROM r
JOIN mo ma ON ma.c = r.ca AND ma.m = r.ord
JOIN mo mb ON mb.c = r.cb AND mb.m = r.ord;
--   --   -- merge the accepted links' clusters
UPDATE "cdp"."customer__id_vn" AS v SET cluster = m.dst FROM (SELECT ca AS c, LEAST(ca, cb) AS dst FROM "cdp"."customer__id_lm" UNION ALL SELECT cb AS c, LEAST(ca, cb) AS dst FROM "cdp"."customer__id_lm") AS m WHERE m.c = v.cluster AND m.dst <> v.cluster;
DELETE FROM "cdp"."customer__id_pend" WHERE ord IN (SELECT ord FROM "cdp"."customer__id_lm");
--   -- end repeat
--   -- next tier
UPDATE "cdp"."customer__id_cur" SET tier = (SELECT MIN(tier) FROM "cdp"."customer__id_pend") WHERE TRUE;
-- end repeat
-- components after the limit rules
CREATE OR REPLACE TABLE "cdp"."customer__id_comp" AS SELECT l.node_id, COALESCE(v.cluster, l.label) AS label FROM "cdp"."customer__id_labels" l LEFT JOIN "cdp"."customer__id_vn" v ON v.node_id = l.node_id;
-- previous identifiers (empty on the first run)
CREATE TABLE IF NOT EXISTS "cdp"."customer_identifiers" ("id_type" VARCHAR, "id_value" VARCHAR, "profile_id" VARCHAR, "first_seen_at" TIMESTAMP, "last_seen_at" TIMESTAMP, "source_count" BIGINT);
-- members with their previous profile
CREATE OR REPLACE TABLE "cdp"."customer__id_members" AS SELECT c.label, n.id_type, n.id_value, CASE WHEN o.first_seen_at IS NULL THEN n.first_seen_at WHEN n.first_seen_at IS NULL THEN o.first_seen_at WHEN o.first_seen_at < n.first_seen_at THEN o.first_seen_at ELSE n.first_seen_at END AS first_seen_at, n.last_seen_at, n.source_count,
  o.profile_id AS prev_profile_id
FROM "cdp"."customer__id_comp" c JOIN "cdp"."customer__id_nodes" n ON n.node_id = c.node_id
LEFT JOIN "cdp"."customer_identifiers" o ON o.id_type = n.id_type AND o.id_value = n.id_value;
-- age of every previous profile of these identifiers
CREATE OR REPLACE TABLE "cdp"."customer__id_ages" AS SELECT profile_id, MIN(first_seen_at) AS age FROM "cdp"."customer_identifiers" WHERE profile_id IN (SELECT prev_profile_id FROM "cdp"."customer__id_members") GROUP BY profile_id;
-- each previous profile is claimed by the component of its oldest surviving identifier
CREATE OR REPLACE TABLE "cdp"."customer__id_claims" AS SELECT profile_id, label FROM (
  SELECT m.prev_profile_id AS profile_id, m.label,
    ROW_NUMBER() OVER (PARTITION BY m.prev_profile_id ORDER BY m.first_seen_at, (m.id_type COLLATE "binary"), (m.id_value COLLATE "binary")) AS rn
  FROM "cdp"."customer__id_members" m WHERE m.prev_profile_id IS NOT NULL
) x WHERE rn = 1;
-- a component keeps its oldest claimed profile
CREATE OR REPLACE TABLE "cdp"."customer__id_chosen" AS SELECT label, profile_id FROM (
  SELECT c.label, c.profile_id,
    ROW_NUMBER() OVER (PARTITION BY c.label ORDER BY (a.age IS NULL), a.age, (c.profile_id COLLATE "binary")) AS rn
  FROM "cdp"."customer__id_claims" c JOIN "cdp"."customer__id_ages" a ON a.profile_id = c.profile_id
) x WHERE rn = 1;
-- the oldest identifier of each component
CREATE OR REPLACE TABLE "cdp"."customer__id_oldest" AS SELECT label, id_type, id_value, n FROM (
  SELECT label, id_type, id_value, COUNT(*) OVER (PARTITION BY label) AS n,
    ROW_NUMBER() OVER (PARTITION BY label ORDER BY first_seen_at, (id_type COLLATE "binary"), (id_value COLLATE "binary")) AS rn
  FROM "cdp"."customer__id_members"
) x WHERE rn = 1;
-- profile ID of every component
CREATE OR REPLACE TABLE "cdp"."customer__id_pids" AS SELECT o.label, COALESCE(ch.profile_id,
  CASE WHEN SUBSTR(md5(o.id_type || ':' || o.id_value), 1, 16) IN (SELECT profile_id FROM "cdp"."customer_identifiers") THEN SUBSTR(md5(o.id_type || ':' || o.id_value || ':' || 'compile'), 1, 16) ELSE SUBSTR(md5(o.id_type || ':' || o.id_value), 1, 16) END) AS profile_id
FROM "cdp"."customer__id_oldest" o LEFT JOIN "cdp"."customer__id_chosen" ch ON ch.label = o.label;
-- profiles whose identifiers changed (read by the profiles node)
CREATE OR REPLACE TABLE "cdp"."customer__changed_profiles" AS SELECT DISTINCT "profile_id" FROM (SELECT prev_profile_id AS "profile_id" FROM "cdp"."customer__id_members" WHERE prev_profile_id IS NOT NULL UNION ALL SELECT profile_id FROM "cdp"."customer__id_pids") AS u;
-- audit table (empty before a first run)
CREATE TABLE IF NOT EXISTS "cdp"."customer_identity_audit" ("run_id" VARCHAR, "kind" VARCHAR, "id_type_a" VARCHAR, "id_value_a" VARCHAR, "id_type_b" VARCHAR, "id_value_b" VARCHAR, "reason" VARCHAR);
-- replace the affected components' identifiers and audit rows; update the state (atomic)
BEGIN;
DELETE FROM "cdp"."customer_identifiers" WHERE profile_id IN (SELECT prev_profile_id FROM "cdp"."customer__id_members");
INSERT INTO "cdp"."customer_identifiers" (id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count)
SELECT m.id_type, m.id_value, p.profile_id, m.first_seen_at, m.last_seen_at, m.source_count
FROM "cdp"."customer__id_members" m JOIN "cdp"."customer__id_pids" p ON p.label = m.label;
DELETE FROM "cdp"."customer_identity_audit" WHERE kind IN ('limit', 'oversized') AND id_type_a || ':' || id_value_a IN (SELECT id_type || ':' || id_value FROM "cdp"."customer__id_nodes");
INSERT INTO "cdp"."customer_identity_audit" (run_id, kind, id_type_a, id_value_a, id_type_b, id_value_b, reason)
SELECT 'compile' AS run_id, 'excluded' AS kind, id_type AS id_type_a, id_value AS id_value_a,
  CAST(NULL AS VARCHAR) AS id_type_b, CAST(NULL AS VARCHAR) AS id_value_b, excluded_by AS reason
FROM "cdp"."customer__id_new_nodes" WHERE excluded_by IS NOT NULL
UNION ALL
SELECT 'compile', 'invalid', i.id_type, i.id_value, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), i.reason
FROM "cdp"."customer__id_invalid" i
WHERE NOT EXISTS (SELECT 1 FROM "cdp"."customer_identity_audit" a WHERE a.kind = 'invalid' AND a.id_type_a = i.id_type AND a.id_value_a = i.id_value)
UNION ALL
SELECT 'compile', 'limit', na.id_type, na.id_value, nb.id_type, nb.id_value, r.reason
FROM "cdp"."customer__id_rej" r JOIN "cdp"."customer__id_nodes" na ON na.node_id = r.a JOIN "cdp"."customer__id_nodes" nb ON nb.node_id = r.b
UNION ALL
SELECT 'compile', 'oversized', o.id_type, o.id_value, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
  'profile has ' || CAST(o.n AS VARCHAR) || ' identifiers, above max_profile_identifiers 200'
FROM "cdp"."customer__id_oldest" o WHERE o.n > 200;
UPDATE "cdp"."customer_identity_nodes" AS n SET label = m.label FROM "cdp"."customer__id_merge" AS m WHERE m.node_id = n.label AND m.label <> n.label;
INSERT INTO "cdp"."customer_identity_nodes" (node_id, id_type, id_value, type_rank, excluded_by, label)
SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by, m.label
FROM "cdp"."customer__id_new_nodes" n LEFT JOIN "cdp"."customer__id_merge" m ON m.node_id = n.node_id;
DELETE FROM "cdp"."customer_identity_node_sources" WHERE node_id IN (SELECT node_id FROM "cdp"."customer__id_ns_changed");
INSERT INTO "cdp"."customer_identity_node_sources" (node_id, source, min_ts, max_ts)
SELECT node_id, source, min_ts, max_ts FROM "cdp"."customer__id_mns" WHERE node_id IN (SELECT node_id FROM "cdp"."customer__id_ns_changed");
DELETE FROM "cdp"."customer_identity_edges" WHERE a IN (SELECT a FROM "cdp"."customer__id_e_changed");
INSERT INTO "cdp"."customer_identity_edges" (a, b, tier, ts)
SELECT a, b, tier, ts FROM "cdp"."customer__id_medges" WHERE a IN (SELECT a FROM "cdp"."customer__id_e_changed");
COMMIT;
-- drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__id_batch_crm_contacts";
DROP TABLE IF EXISTS "cdp"."customer__id_batch_shop_customers";
DROP TABLE IF EXISTS "cdp"."customer__id_batch_orders";
DROP TABLE IF EXISTS "cdp"."customer__id_batch_pos_transactions";
DROP TABLE IF EXISTS "cdp"."customer__id_batch_web_events";
DROP TABLE IF EXISTS "cdp"."customer__id_batch_consent_events";
DROP TABLE IF EXISTS "cdp"."customer__id_occ";
DROP TABLE IF EXISTS "cdp"."customer__id_srcnodes";
DROP TABLE IF EXISTS "cdp"."customer__id_invalid";
DROP TABLE IF EXISTS "cdp"."customer__id_new_nodes";
DROP TABLE IF EXISTS "cdp"."customer__id_bids";
DROP TABLE IF EXISTS "cdp"."customer__id_ns_changed";
DROP TABLE IF EXISTS "cdp"."customer__id_bedges";
DROP TABLE IF EXISTS "cdp"."customer__id_e_changed";
DROP TABLE IF EXISTS "cdp"."customer__id_touched";
DROP TABLE IF EXISTS "cdp"."customer__id_merge";
DROP TABLE IF EXISTS "cdp"."customer__id_merge_edges";
DROP TABLE IF EXISTS "cdp"."customer__id_merge_hook";
DROP TABLE IF EXISTS "cdp"."customer__id_merge_next";
DROP TABLE IF EXISTS "cdp"."customer__id_aff";
DROP TABLE IF EXISTS "cdp"."customer__id_mns";
DROP TABLE IF EXISTS "cdp"."customer__id_nodes";
DROP TABLE IF EXISTS "cdp"."customer__id_medges";
DROP TABLE IF EXISTS "cdp"."customer__id_edges";
DROP TABLE IF EXISTS "cdp"."customer__id_labels";
DROP TABLE IF EXISTS "cdp"."customer__id_viol";
DROP TABLE IF EXISTS "cdp"."customer__id_vn";
DROP TABLE IF EXISTS "cdp"."customer__id_pend";
DROP TABLE IF EXISTS "cdp"."customer__id_rej";
DROP TABLE IF EXISTS "cdp"."customer__id_cur";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_pairs";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_labels";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_over";
DROP TABLE IF EXISTS "cdp"."customer__id_ec";
DROP TABLE IF EXISTS "cdp"."customer__id_cnt";
DROP TABLE IF EXISTS "cdp"."customer__id_lm";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_edges";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_hook";
DROP TABLE IF EXISTS "cdp"."customer__id_tier_next";
DROP TABLE IF EXISTS "cdp"."customer__id_comp";
DROP TABLE IF EXISTS "cdp"."customer__id_members";
DROP TABLE IF EXISTS "cdp"."customer__id_ages";
DROP TABLE IF EXISTS "cdp"."customer__id_claims";
DROP TABLE IF EXISTS "cdp"."customer__id_chosen";
DROP TABLE IF EXISTS "cdp"."customer__id_oldest";
DROP TABLE IF EXISTS "cdp"."customer__id_pids";

-- node: profiles.customer (models/traits.yml:11)
-- update customer_profiles: profiles that may have changed
CREATE OR REPLACE TABLE "cdp"."customer__prof_dirty" AS SELECT DISTINCT "profile_id" FROM (
SELECT "profile_id" FROM "cdp"."customer__changed_profiles"
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_crm_contacts" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i3
    ON i3."id_type" = 'crm_id' AND i3."id_value" = v."_cdp_id_3"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'loyalty_card' AND i2."id_value" = v."_cdp_id_2"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'phone' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id", i2."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_shop_customers" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'user_id' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'phone' AND i2."id_value" = v."_cdp_id_2"
  WHERE COALESCE(i0."profile_id", i1."profile_id", i2."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_orders" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'user_id' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_pos_transactions" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'loyalty_card' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'phone' AND i2."id_value" = v."_cdp_id_2"
  WHERE COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_orders" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'user_id' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i1."profile_id") IS NOT NULL
    AND COALESCE((v."_cdp_ts" >= (TIMESTAMP '2026-10-31 00:00:00.000000' - INTERVAL '2160 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-10-31 00:00:00.000000') <> (v."_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '2160 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'), FALSE)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_pos_transactions" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'loyalty_card' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'phone' AND i2."id_value" = v."_cdp_id_2"
  WHERE COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") IS NOT NULL
    AND COALESCE((v."_cdp_ts" >= (TIMESTAMP '2026-10-31 00:00:00.000000' - INTERVAL '8736 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-10-31 00:00:00.000000') <> (v."_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '8736 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'), FALSE)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
    AND COALESCE((v."_cdp_ts" >= (TIMESTAMP '2026-10-31 00:00:00.000000' - INTERVAL '48 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-10-31 00:00:00.000000') <> (v."_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '48 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'), FALSE)
) AS r
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
    AND COALESCE((v."_cdp_ts" >= (TIMESTAMP '2026-10-31 00:00:00.000000' - INTERVAL '336 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-10-31 00:00:00.000000') <> (v."_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '336 hours') AND v."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'), FALSE)
) AS r
) AS u;
-- update customer_profiles: their identifiers
CREATE OR REPLACE TABLE "cdp"."customer__prof_dirty_ids" AS SELECT "id_type", "id_value" FROM "cdp"."customer_identifiers" WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty");
-- update customer_profiles: replace their rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_profiles" WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty");
INSERT INTO "cdp"."customer_profiles" ("profile_id", "email", "first_name", "last_name", "phone", "country", "email_opt_in", "loyalty_card", "crm_created_at", "customer_since", "last_seen_at", "first_order_at", "last_order_at", "lifetime_value", "orders_count", "orders_90d", "avg_order_value", "largest_order", "refunds_count", "checkout_emails", "store_spend", "store_visits_12m", "stores_visited", "favorite_store", "smallest_store_basket", "devices", "product_views_14d", "web_events_48h", "is_vip", "ltv_tier", "total_spend", "display_name", "updated_at")
WITH
-- rows of source shop_customers with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id", i2."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_shop_customers" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'user_id' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'phone' AND i2."id_value" = v."_cdp_id_2"
  WHERE COALESCE(i0."profile_id", i1."profile_id", i2."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'user_id') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email') OR v."_cdp_id_2" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone'))
    AND COALESCE(i0."profile_id", i1."profile_id", i2."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- rows of source crm_contacts with their profile
s2 AS (
  SELECT v.*, COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_crm_contacts" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i3
    ON i3."id_type" = 'crm_id' AND i3."id_value" = v."_cdp_id_3"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'loyalty_card' AND i2."id_value" = v."_cdp_id_2"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'phone' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone') OR v."_cdp_id_2" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'loyalty_card') OR v."_cdp_id_3" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'crm_id'))
    AND COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- rows of source pos_transactions with their profile
s3 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_pos_transactions" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'loyalty_card' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'phone' AND i2."id_value" = v."_cdp_id_2"
  WHERE COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'loyalty_card') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email') OR v."_cdp_id_2" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone'))
    AND COALESCE(i1."profile_id", i0."profile_id", i2."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- rows of source web_events with their profile
s4 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'anonymous_id') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'user_id'))
    AND COALESCE(i1."profile_id", i0."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- rows of source orders with their profile
s5 AS (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_orders" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'user_id' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'email' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'user_id') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email'))
    AND COALESCE(i0."profile_id", i1."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- trait email: latest of shop_customers.email (source priority 1)
t1_1 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "email" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("email" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s1
    WHERE "email" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait email: latest of crm_contacts.email (source priority 2)
t1_2 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "email" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("email" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s2
    WHERE "email" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait first_name: latest of crm_contacts.first_name (source priority 1)
t2_1 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "first_name" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("first_name" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s2
    WHERE "first_name" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait first_name: latest of shop_customers.first_name (source priority 2)
t2_2 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "first_name" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("first_name" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s1
    WHERE "first_name" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait last_name: most_frequent of crm_contacts.last_name
t3 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, (CAST("_cdp_value" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "last_name" AS "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM s2
      WHERE "last_name" IS NOT NULL
      GROUP BY "_cdp_profile_id", "last_name"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait phone: latest of crm_contacts.phone (source priority 1)
t4_1 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "phone" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("phone" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s2
    WHERE "phone" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait phone: latest of shop_customers.phone (source priority 2)
t4_2 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "phone" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("phone" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s1
    WHERE "phone" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait phone: latest of pos_transactions.phone (source priority 3)
t4_3 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "phone" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("phone" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s3
    WHERE "phone" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait country: most_frequent of crm_contacts.country
t5 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, (CAST("_cdp_value" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "country" AS "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM s2
      WHERE "country" IS NOT NULL
      GROUP BY "_cdp_profile_id", "country"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait email_opt_in: latest of crm_contacts.email_opt_in
t6 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "email_opt_in" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" DESC, (CAST("email_opt_in" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s2
    WHERE "email_opt_in" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait loyalty_card: any of crm_contacts.loyalty_card (source priority 1)
t7_1 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "loyalty_card" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY (CAST("loyalty_card" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s2
    WHERE "loyalty_card" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait loyalty_card: any of pos_transactions.loyalty_card (source priority 2)
t7_2 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "loyalty_card" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY (CAST("loyalty_card" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s3
    WHERE "loyalty_card" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait crm_created_at: min of crm_contacts.created_at
t8 AS (
  SELECT "_cdp_profile_id", MIN("created_at") AS "_cdp_value"
  FROM s2
  WHERE "created_at" IS NOT NULL
  GROUP BY "_cdp_profile_id"
),
-- trait customer_since: earliest of shop_customers.signup_at
t9 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "signup_at" AS "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_ts" IS NULL), "_cdp_ts" ASC, (CAST("signup_at" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM s1
    WHERE "signup_at" IS NOT NULL
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait last_seen_at: max of web_events.occurred_at
t10 AS (
  SELECT "_cdp_profile_id", MAX("occurred_at") AS "_cdp_value"
  FROM s4
  WHERE "occurred_at" IS NOT NULL
  GROUP BY "_cdp_profile_id"
),
-- trait first_order_at: min of orders.ordered_at
t11 AS (
  SELECT "_cdp_profile_id", MIN("ordered_at") AS "_cdp_value"
  FROM s5
  GROUP BY "_cdp_profile_id"
),
-- trait last_order_at: max of orders.ordered_at
t12 AS (
  SELECT "_cdp_profile_id", MAX("ordered_at") AS "_cdp_value"
  FROM s5
  WHERE (status <> 'cancelled')
  GROUP BY "_cdp_profile_id"
),
-- trait lifetime_value: sum of orders.amount_eur
t13 AS (
  SELECT "_cdp_profile_id", SUM("amount_eur") AS "_cdp_value"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_cdp_profile_id"
),
-- trait orders_count: count of orders
t14 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_cdp_profile_id"
),
-- trait orders_90d: count of orders within 90d
t15 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s5
  WHERE "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '2160 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
    AND (status = 'paid')
  GROUP BY "_cdp_profile_id"
),
-- trait avg_order_value: avg of orders.amount_eur
t16 AS (
  SELECT "_cdp_profile_id", AVG("amount_eur") AS "_cdp_value"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_cdp_profile_id"
),
-- trait largest_order: max of orders.amount_eur
t17 AS (
  SELECT "_cdp_profile_id", MAX("amount_eur") AS "_cdp_value"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_cdp_profile_id"
),
-- trait refunds_count: count of orders
t18 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s5
  WHERE (status = 'refunded')
  GROUP BY "_cdp_profile_id"
),
-- trait checkout_emails: count_distinct of orders.email
t19 AS (
  SELECT "_cdp_profile_id", COUNT(DISTINCT "email") AS "_cdp_value"
  FROM s5
  GROUP BY "_cdp_profile_id"
),
-- trait store_spend: sum of pos_transactions.amount
t20 AS (
  SELECT "_cdp_profile_id", SUM("amount") AS "_cdp_value"
  FROM s3
  GROUP BY "_cdp_profile_id"
),
-- trait store_visits_12m: count of pos_transactions within 52w
t21 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s3
  WHERE "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '8736 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- trait stores_visited: count_distinct of pos_transactions.store_id
t22 AS (
  SELECT "_cdp_profile_id", COUNT(DISTINCT "store_id") AS "_cdp_value"
  FROM s3
  GROUP BY "_cdp_profile_id"
),
-- trait favorite_store: most_frequent of pos_transactions.store_id
t23 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, (CAST("_cdp_value" AS VARCHAR) COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "store_id" AS "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM s3
      WHERE "store_id" IS NOT NULL
      GROUP BY "_cdp_profile_id", "store_id"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait smallest_store_basket: min of pos_transactions.amount
t24 AS (
  SELECT "_cdp_profile_id", MIN("amount") AS "_cdp_value"
  FROM s3
  WHERE (amount > 0)
  GROUP BY "_cdp_profile_id"
),
-- trait devices: count_distinct of web_events.anonymous_id
t25 AS (
  SELECT "_cdp_profile_id", COUNT(DISTINCT "anonymous_id") AS "_cdp_value"
  FROM s4
  GROUP BY "_cdp_profile_id"
),
-- trait product_views_14d: count of web_events within 14d
t26 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s4
  WHERE "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '336 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
    AND (event_name = 'product_viewed')
  GROUP BY "_cdp_profile_id"
),
-- trait web_events_48h: count of web_events within 48h
t27 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_value"
  FROM s4
  WHERE "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '48 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- every profile with its source-based traits
base AS (
  SELECT
    p."profile_id",
    COALESCE(t1_1."_cdp_value", t1_2."_cdp_value") AS "email",
    COALESCE(t2_1."_cdp_value", t2_2."_cdp_value") AS "first_name",
    t3."_cdp_value" AS "last_name",
    COALESCE(t4_1."_cdp_value", t4_2."_cdp_value", t4_3."_cdp_value") AS "phone",
    t5."_cdp_value" AS "country",
    CAST(t6."_cdp_value" AS BOOLEAN) AS "email_opt_in",
    COALESCE(t7_1."_cdp_value", t7_2."_cdp_value") AS "loyalty_card",
    t8."_cdp_value" AS "crm_created_at",
    CAST(t9."_cdp_value" AS TIMESTAMP) AS "customer_since",
    t10."_cdp_value" AS "last_seen_at",
    t11."_cdp_value" AS "first_order_at",
    t12."_cdp_value" AS "last_order_at",
    t13."_cdp_value" AS "lifetime_value",
    COALESCE(t14."_cdp_value", 0) AS "orders_count",
    COALESCE(t15."_cdp_value", 0) AS "orders_90d",
    t16."_cdp_value" AS "avg_order_value",
    t17."_cdp_value" AS "largest_order",
    COALESCE(t18."_cdp_value", 0) AS "refunds_count",
    COALESCE(t19."_cdp_value", 0) AS "checkout_emails",
    t20."_cdp_value" AS "store_spend",
    COALESCE(t21."_cdp_value", 0) AS "store_visits_12m",
    COALESCE(t22."_cdp_value", 0) AS "stores_visited",
    t23."_cdp_value" AS "favorite_store",
    t24."_cdp_value" AS "smallest_store_basket",
    COALESCE(t25."_cdp_value", 0) AS "devices",
    COALESCE(t26."_cdp_value", 0) AS "product_views_14d",
    COALESCE(t27."_cdp_value", 0) AS "web_events_48h"
  FROM (
    SELECT DISTINCT "profile_id"
    FROM "cdp"."customer_identifiers"
    WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
  ) AS p
  LEFT JOIN t1_1 ON t1_1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t1_2 ON t1_2."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t2_1 ON t2_1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t2_2 ON t2_2."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t3 ON t3."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t4_1 ON t4_1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t4_2 ON t4_2."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t4_3 ON t4_3."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t5 ON t5."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t6 ON t6."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t7_1 ON t7_1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t7_2 ON t7_2."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t8 ON t8."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t9 ON t9."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t10 ON t10."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t11 ON t11."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t12 ON t12."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t13 ON t13."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t14 ON t14."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t15 ON t15."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t16 ON t16."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t17 ON t17."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t18 ON t18."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t19 ON t19."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t20 ON t20."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t21 ON t21."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t22 ON t22."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t23 ON t23."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t24 ON t24."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t25 ON t25."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t26 ON t26."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t27 ON t27."_cdp_profile_id" = p."profile_id"
),
-- expression traits, layer 1
x1 AS (
  SELECT
    *,
    CAST((COALESCE(lifetime_value, 0) >= 1000 OR COALESCE(orders_count, 0) >= 10) AS BOOLEAN) AS "is_vip",
    CAST((CASE
  WHEN COALESCE(lifetime_value, 0) >= 1000 THEN 'gold'
  WHEN COALESCE(lifetime_value, 0) >= 300 THEN 'silver'
  WHEN COALESCE(lifetime_value, 0) > 0 THEN 'bronze'
  ELSE 'none'
END) AS VARCHAR) AS "ltv_tier",
    CAST((COALESCE(lifetime_value, 0) + COALESCE(store_spend, 0)) AS DOUBLE) AS "total_spend",
    CAST((TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))) AS VARCHAR) AS "display_name"
  FROM base
)
SELECT
  "profile_id",
  "email",
  "first_name",
  "last_name",
  "phone",
  "country",
  "email_opt_in",
  "loyalty_card",
  "crm_created_at",
  "customer_since",
  "last_seen_at",
  "first_order_at",
  "last_order_at",
  "lifetime_value",
  "orders_count",
  "orders_90d",
  "avg_order_value",
  "largest_order",
  "refunds_count",
  "checkout_emails",
  "store_spend",
  "store_visits_12m",
  "stores_visited",
  "favorite_store",
  "smallest_store_basket",
  "devices",
  "product_views_14d",
  "web_events_48h",
  "is_vip",
  "ltv_tier",
  "total_spend",
  "display_name",
  TIMESTAMP '2026-11-01 00:00:00.000000' AS "updated_at"
FROM x1;
COMMIT;
-- update customer_profiles: drop scratch tables
DROP TABLE IF EXISTS "cdp"."customer__prof_dirty";
DROP TABLE IF EXISTS "cdp"."customer__prof_dirty_ids";
DROP TABLE IF EXISTS "cdp"."customer__changed_profiles";

-- node: segment.frequent_refunders (models/segments.yml:7)
-- segment frequent_refunders: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment frequent_refunders: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_frequent_refunders" AS WITH
-- profiles matching segment frequent_refunders
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (p."refunds_count" IS NOT NULL AND p."refunds_count" >= 2)
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'frequent_refunders'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment frequent_refunders: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'frequent_refunders';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'frequent_refunders', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_frequent_refunders";
COMMIT;
-- segment frequent_refunders: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_frequent_refunders";

-- node: segment.vip_customers (models/segments.yml:13)
-- segment vip_customers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment vip_customers: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_vip_customers" AS WITH
-- profiles matching segment vip_customers
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (
    (p."is_vip" IS NOT NULL AND p."is_vip" = TRUE)
    AND p."email" IS NOT NULL
    AND NOT (p."profile_id" IN (SELECT "profile_id" FROM "cdp"."customer_segments" WHERE "segment" = 'frequent_refunders'))
    AND (
      (p."email_opt_in" IS NOT NULL AND p."email_opt_in" = TRUE)
      OR (p."last_seen_at" IS NOT NULL AND p."last_seen_at" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '720 hours') AND p."last_seen_at" <= TIMESTAMP '2026-11-01 00:00:00.000000')
      OR (p."store_visits_12m" IS NOT NULL AND p."store_visits_12m" >= 3)
    )
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'vip_customers'
)
SELECT
  m."profile_id",
  (CAST(('0x' || substr(md5(m."profile_id" || ':vip_customers'), 1, 8)) AS BIGINT) / CAST(4294967296 AS DOUBLE)) < 0.1 AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment vip_customers: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'vip_customers';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'vip_customers', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_vip_customers";
COMMIT;
-- segment vip_customers: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_vip_customers";

-- node: segment.cart_abandoners (models/segments.yml:26)
-- segment cart_abandoners: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment cart_abandoners: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_cart_abandoners" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
),
-- event added_to_cart in web_events within 7d
ev1 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'added_to_cart'
    AND "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '168 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- event order_completed in web_events within 7d
ev2 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'order_completed'
    AND "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '168 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- profiles matching segment cart_abandoners
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  LEFT JOIN ev1 ON ev1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN ev2 ON ev2."_cdp_profile_id" = p."profile_id"
  WHERE (
    COALESCE(ev1."_cdp_n", 0) >= 1
    AND COALESCE(ev2."_cdp_n", 0) = 0
    AND p."email" IS NOT NULL
    AND (p."email_opt_in" IS NOT NULL AND p."email_opt_in" = TRUE)
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'cart_abandoners'
)
SELECT
  m."profile_id",
  (CAST(('0x' || substr(md5(m."profile_id" || ':cart_abandoners'), 1, 8)) AS BIGINT) / CAST(4294967296 AS DOUBLE)) < 0.1 AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment cart_abandoners: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'cart_abandoners';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'cart_abandoners', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_cart_abandoners";
COMMIT;
-- segment cart_abandoners: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_cart_abandoners";

-- node: segment.high_value_eu (models/segments.yml:41)
-- segment high_value_eu: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment high_value_eu: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_high_value_eu" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
),
-- event order_completed in web_events within 90d
ev1 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'order_completed'
    AND "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '2160 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
    AND (properties_total >= 150)
  GROUP BY "_cdp_profile_id"
),
-- profiles matching segment high_value_eu
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  LEFT JOIN ev1 ON ev1."_cdp_profile_id" = p."profile_id"
  WHERE (
    COALESCE(ev1."_cdp_n", 0) >= 1
    AND (p."lifetime_value" IS NOT NULL AND p."lifetime_value" > 500)
    AND (p."country" IS NOT NULL AND p."country" IN ('FR', 'DE', 'NL', 'ES', 'IT'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'high_value_eu'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment high_value_eu: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'high_value_eu';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'high_value_eu', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_high_value_eu";
COMMIT;
-- segment high_value_eu: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_high_value_eu";

-- node: segment.mid_value_regulars (models/segments.yml:52)
-- segment mid_value_regulars: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment mid_value_regulars: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_mid_value_regulars" AS WITH
-- profiles matching segment mid_value_regulars
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (
    (p."lifetime_value" IS NOT NULL AND p."lifetime_value" BETWEEN 300 AND 1000)
    AND (p."ltv_tier" IS NULL OR p."ltv_tier" <> 'gold')
    AND (p."avg_order_value" IS NOT NULL AND p."avg_order_value" < 150)
    AND (p."orders_90d" IS NOT NULL AND p."orders_90d" > 0)
    AND NOT (p."profile_id" IN (SELECT "profile_id" FROM "cdp"."customer_segments" WHERE "segment" = 'vip_customers'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'mid_value_regulars'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment mid_value_regulars: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'mid_value_regulars';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'mid_value_regulars', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_mid_value_regulars";
COMMIT;
-- segment mid_value_regulars: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_mid_value_regulars";

-- node: segment.lapsed_buyers (models/segments.yml:62)
-- segment lapsed_buyers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment lapsed_buyers: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_lapsed_buyers" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
),
-- event order_completed in web_events within 26w
ev1 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'order_completed'
    AND "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '4368 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- profiles matching segment lapsed_buyers
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  LEFT JOIN ev1 ON ev1."_cdp_profile_id" = p."profile_id"
  WHERE (
    (p."orders_count" IS NOT NULL AND p."orders_count" >= 2)
    AND (p."last_order_at" IS NOT NULL AND p."last_order_at" < TIMESTAMP '2026-05-01 00:00:00.000000')
    AND COALESCE(ev1."_cdp_n", 0) = 0
    AND NOT ((p."last_seen_at" IS NOT NULL AND p."last_seen_at" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '720 hours') AND p."last_seen_at" <= TIMESTAMP '2026-11-01 00:00:00.000000'))
    AND NOT (p."profile_id" IN (SELECT "profile_id" FROM "cdp"."customer_segments" WHERE "segment" = 'frequent_refunders'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'lapsed_buyers'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment lapsed_buyers: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'lapsed_buyers';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'lapsed_buyers', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_lapsed_buyers";
COMMIT;
-- segment lapsed_buyers: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_lapsed_buyers";

-- node: segment.new_customers (models/segments.yml:74)
-- segment new_customers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment new_customers: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_new_customers" AS WITH
-- profiles matching segment new_customers
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (
    (p."customer_since" IS NOT NULL AND p."customer_since" > TIMESTAMP '2026-08-01 00:00:00.000000')
    AND (
      (p."orders_count" IS NOT NULL AND p."orders_count" <= 1)
      OR p."first_order_at" IS NULL
    )
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'new_customers'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment new_customers: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'new_customers';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'new_customers', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_new_customers";
COMMIT;
-- segment new_customers: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_new_customers";

-- node: segment.store_regulars (models/segments.yml:83)
-- segment store_regulars: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment store_regulars: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_store_regulars" AS WITH
-- profiles matching segment store_regulars
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (
    (p."store_visits_12m" IS NOT NULL AND p."store_visits_12m" >= 4)
    AND (p."loyalty_card" IS NOT NULL AND starts_with(CAST(p."loyalty_card" AS VARCHAR), 'LC-'))
    AND (p."favorite_store" IS NOT NULL AND p."favorite_store" IN ('S01', 'S02', 'S03', 'S04'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'store_regulars'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment store_regulars: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'store_regulars';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'store_regulars', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_store_regulars";
COMMIT;
-- segment store_regulars: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_store_regulars";

-- node: segment.winback_eu_optin (models/segments.yml:91)
-- segment winback_eu_optin: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment winback_eu_optin: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_winback_eu_optin" AS WITH
-- profiles matching segment winback_eu_optin
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (
    (p."email_opt_in" IS NOT NULL AND p."email_opt_in" = TRUE)
    AND (p."country" IS NULL OR p."country" NOT IN ('US', 'GB'))
    AND (p."crm_created_at" IS NOT NULL AND p."crm_created_at" < TIMESTAMP '2025-06-01 00:00:00.000000')
    AND NOT ((p."last_seen_at" IS NOT NULL AND p."last_seen_at" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '1440 hours') AND p."last_seen_at" <= TIMESTAMP '2026-11-01 00:00:00.000000'))
    AND (
      (p."email" IS NOT NULL AND suffix(CAST(p."email" AS VARCHAR), '.fr'))
      OR (p."email" IS NOT NULL AND suffix(CAST(p."email" AS VARCHAR), '.de'))
      OR (p."email" IS NOT NULL AND contains(CAST(p."email" AS VARCHAR), '@gmail.'))
    )
    AND NOT (p."profile_id" IN (SELECT "profile_id" FROM "cdp"."customer_segments" WHERE "segment" = 'vip_customers'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'winback_eu_optin'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment winback_eu_optin: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'winback_eu_optin';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'winback_eu_optin', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_winback_eu_optin";
COMMIT;
-- segment winback_eu_optin: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_winback_eu_optin";

-- node: segment.anonymous_browsers (models/segments.yml:105)
-- segment anonymous_browsers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment anonymous_browsers: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_anonymous_browsers" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
),
-- event product_viewed in web_events within 72h
ev1 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'product_viewed'
    AND "_cdp_ts" >= (TIMESTAMP '2026-11-01 00:00:00.000000' - INTERVAL '72 hours')
    AND "_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000'
  GROUP BY "_cdp_profile_id"
),
-- profiles matching segment anonymous_browsers
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  LEFT JOIN ev1 ON ev1."_cdp_profile_id" = p."profile_id"
  WHERE (
    COALESCE(ev1."_cdp_n", 0) >= 2
    AND p."email" IS NULL
    AND (p."devices" IS NOT NULL AND p."devices" <= 1)
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'anonymous_browsers'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment anonymous_browsers: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'anonymous_browsers';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'anonymous_browsers', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_anonymous_browsers";
COMMIT;
-- segment anonymous_browsers: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_anonymous_browsers";

-- node: segment.newsletter_no_order (models/segments.yml:115)
-- segment newsletter_no_order: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment newsletter_no_order: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_newsletter_no_order" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_web_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
  WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL
),
-- event newsletter_signup in web_events
ev1 AS (
  SELECT "_cdp_profile_id", COUNT(*) AS "_cdp_n"
  FROM s1
  WHERE "event_name" = 'newsletter_signup'
  GROUP BY "_cdp_profile_id"
),
-- profiles matching segment newsletter_no_order
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  LEFT JOIN ev1 ON ev1."_cdp_profile_id" = p."profile_id"
  WHERE (
    COALESCE(ev1."_cdp_n", 0) >= 1
    AND p."first_order_at" IS NULL
  )
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'newsletter_no_order'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment newsletter_no_order: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'newsletter_no_order';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'newsletter_no_order', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_newsletter_no_order";
COMMIT;
-- segment newsletter_no_order: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_newsletter_no_order";

-- node: consent.customer (models/consent.yml:8)
-- consent statements of every purpose
CREATE OR REPLACE TABLE "cdp"."customer__consent_statements" AS WITH -- rows of source crm_contacts with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_crm_contacts" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i3
    ON i3."id_type" = 'crm_id' AND i3."id_value" = v."_cdp_id_3"
  LEFT JOIN "cdp"."customer_identifiers" AS i2
    ON i2."id_type" = 'loyalty_card' AND i2."id_value" = v."_cdp_id_2"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'phone' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i3."profile_id", i2."profile_id", i1."profile_id") IS NOT NULL
),
-- rows of source consent_events with their profile
s2 AS (
  SELECT v.*, i0."profile_id" AS "_cdp_profile_id"
  FROM "cdp"."customer_src_consent_events" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  WHERE i0."profile_id" IS NOT NULL
)
SELECT s1."_cdp_profile_id" AS profile_id, 'email_marketing' AS purpose, CASE WHEN lower(trim(CAST(s1."email_opt_in" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN lower(trim(CAST(s1."email_opt_in" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s1."email_opt_in" AS VARCHAR) AS raw_value, s1."_cdp_ts" AS decided_at, 'crm_contacts' AS source, CAST(s1."contact_id" AS VARCHAR) AS source_key, 0 AS priority
FROM s1
WHERE s1."email_opt_in" IS NOT NULL AND (s1."_cdp_ts" IS NULL OR s1."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000')
UNION ALL
SELECT s2."_cdp_profile_id" AS profile_id, 'email_marketing' AS purpose, CASE WHEN lower(trim(CAST(s2."status" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN lower(trim(CAST(s2."status" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s2."status" AS VARCHAR) AS raw_value, s2."_cdp_ts" AS decided_at, 'consent_events' AS source, CAST(s2."event_id" AS VARCHAR) AS source_key, 1 AS priority
FROM s2
WHERE s2."status" IS NOT NULL AND (s2."_cdp_ts" IS NULL OR s2."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000') AND trim(CAST(s2."purpose" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = 'email_marketing'
UNION ALL
SELECT s2."_cdp_profile_id" AS profile_id, 'sms_marketing' AS purpose, CASE WHEN lower(trim(CAST(s2."status" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN lower(trim(CAST(s2."status" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s2."status" AS VARCHAR) AS raw_value, s2."_cdp_ts" AS decided_at, 'consent_events' AS source, CAST(s2."event_id" AS VARCHAR) AS source_key, 0 AS priority
FROM s2
WHERE s2."status" IS NOT NULL AND (s2."_cdp_ts" IS NULL OR s2."_cdp_ts" <= TIMESTAMP '2026-11-01 00:00:00.000000') AND trim(CAST(s2."purpose" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = 'sms_marketing';
-- build customer_consent_rejected (atomic)
BEGIN;
CREATE OR REPLACE TABLE "cdp"."customer_consent_rejected" AS SELECT profile_id, purpose, source, source_key, raw_value, decided_at,
  'neither granted nor denied' AS reason
FROM "cdp"."customer__consent_statements"
WHERE state IS NULL;
COMMIT;
-- build customer_consent (atomic)
BEGIN;
CREATE OR REPLACE TABLE "cdp"."customer_consent" AS WITH ranked AS (
SELECT st.profile_id, st.purpose, st.state, st.decided_at, st.source,
  ROW_NUMBER() OVER (PARTITION BY st.profile_id, st.purpose ORDER BY CASE WHEN st.decided_at IS NULL THEN 1 ELSE 0 END, st.decided_at DESC, st.priority, CASE WHEN st.state = 'denied' THEN 0 ELSE 1 END, (st.source_key COLLATE "binary")) AS rn
FROM "cdp"."customer__consent_statements" AS st
WHERE st.state IS NOT NULL
), purposes AS (
SELECT 'email_marketing' AS purpose, 'denied' AS default_state
UNION ALL
SELECT 'sms_marketing' AS purpose, 'denied' AS default_state
), profiles AS (
SELECT DISTINCT profile_id FROM "cdp"."customer_identifiers"
)
SELECT pr.profile_id, u.purpose, COALESCE(r.state, 'unknown') AS state, r.decided_at, r.source,
  CASE WHEN COALESCE(r.state, u.default_state) = 'granted' THEN TRUE ELSE FALSE END AS allowed
FROM profiles AS pr CROSS JOIN purposes AS u
LEFT JOIN ranked AS r ON r.profile_id = pr.profile_id AND r.purpose = u.purpose AND r.rn = 1;
COMMIT;
-- drop the consent statements
DROP TABLE IF EXISTS "cdp"."customer__consent_statements";

-- after every node of a complete run succeeded: record the watermarks
-- state: watermarks table
CREATE TABLE IF NOT EXISTS "cdp"."customer_watermarks" ("source" VARCHAR, "watermark" TIMESTAMP, "as_of" TIMESTAMP, "fingerprint" VARCHAR, "run_id" VARCHAR);
-- state: the latest row time read from each source
CREATE OR REPLACE TABLE "cdp"."customer__wm_next" AS SELECT 'crm_contacts' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_crm_contacts" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark"
UNION ALL
SELECT 'shop_customers' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_shop_customers" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark"
UNION ALL
SELECT 'orders' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_orders" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark"
UNION ALL
SELECT 'pos_transactions' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_pos_transactions" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark"
UNION ALL
SELECT 'web_events' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_web_events" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark"
UNION ALL
SELECT 'consent_events' AS "source", (SELECT COALESCE(MAX(v."_cdp_ts"), TIMESTAMP '2026-10-31 23:00:00.000000') FROM "cdp"."customer_src_consent_events" AS v WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-29 23:00:00.000000' OR v."_cdp_ts" IS NULL)) AS "watermark";
-- state: record the watermarks of this run (atomic)
BEGIN;
DELETE FROM "cdp"."customer_watermarks" WHERE TRUE;
INSERT INTO "cdp"."customer_watermarks" ("source", "watermark", "as_of", "fingerprint", "run_id")
SELECT "source", "watermark", TIMESTAMP '2026-11-01 00:00:00.000000', '1eb665a541935aba', 'compile' FROM "cdp"."customer__wm_next";
COMMIT;
-- drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__wm_next";
