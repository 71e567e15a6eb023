-- before the first node of every run (idempotent)
-- libphonenumber's metadata, once per version
CREATE TABLE IF NOT EXISTS "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK" BIGINT, "ID" VARCHAR, "CC" VARCHAR, "ORD" BIGINT, "NREGIONS" BIGINT, "IDD" VARCHAR, "NPP" VARCHAR, "NPT" VARCHAR, "PROBE" VARCHAR, "GENERAL" VARCHAR, "LENGTHS" VARCHAR, "MIN_LENGTH" BIGINT, "MAX_LENGTH" BIGINT, "LOCAL_LENGTHS" VARCHAR, "LEADING_DIGITS" VARCHAR, "T0" VARCHAR, "T0_LENGTHS" VARCHAR, "T1" VARCHAR, "T1_LENGTHS" VARCHAR, "T2" VARCHAR, "T2_LENGTHS" VARCHAR, "T3" VARCHAR, "T3_LENGTHS" VARCHAR, "T4" VARCHAR, "T4_LENGTHS" VARCHAR, "T5" VARCHAR, "T5_LENGTHS" VARCHAR, "T6" VARCHAR, "T6_LENGTHS" VARCHAR, "T7" VARCHAR, "T7_LENGTHS" VARCHAR, "T8" VARCHAR, "T8_LENGTHS" VARCHAR, "T9" VARCHAR, "T9_LENGTHS" VARCHAR);
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 45354 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 51643 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 30202 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 33329 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 33279 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 33555 more bytes of literal rows
INSERT INTO "CDP"."CDP_PHONE_REGIONS_4BB521D638" ("CHUNK", "ID", "CC", "ORD", "NREGIONS", "IDD", "NPP", "NPT", "PROBE", "GENERAL", "LENGTHS", "MIN_LENGTH", "MAX_LENGTH", "LOCAL_LENGTHS", "LEADING_DIGITS", "T0", "T0_LENGTHS", "T1", "T1_LENGTHS", "T2", "T2_LENGTHS", "T3", "T3_LENGTHS", "T4", "T4_LENGTHS", "T5", "T5_LENGTHS", "T6", "T6_LENGTHS", "T7", "T7_LENGTHS", "T8", "T8_LENGTHS", "T9", "T9_LENGTHS")
-- … 13340 more bytes of literal rows
-- node: source.crm_contacts (models/sources.yml:11)
-- the phone map of the source: one row per (value, region)
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_PHONE_MAP_CRM_CONTACTS_4BB521D638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of crm_contacts not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, COALESCE(NULLIF(TRANSLATE(TRIM(CAST(src."COUNTRY" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS region FROM "CDP"."SEED_CRM_CONTACTS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_CRM_CONTACTS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- normalize the new phone numbers (libphonenumber's parse, in SQL)
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IN" AS SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, COALESCE(NULLIF(TRANSLATE(TRIM(CAST(src."COUNTRY" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS region FROM "CDP"."SEED_CRM_CONTACTS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_CRM_CONTACTS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX" AS SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM "CDP"."CUSTOMER__PH_PH_IN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX2" AS SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM "CDP"."CUSTOMER__PH_PH_CTX";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT" AS SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT ((REGEXP_INSTR(ctx, '^\\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') > 0) OR (REGEXP_INSTR(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\\.?$') > 0)))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN (REGEXP_INSTR(s, '[+＋0-9]') > 0) THEN REGEXP_REPLACE(REGEXP_REPLACE(s, '^[^+＋0-9]+', ''), '[\\\\/] *x(?:.|\\n)*$', '') ELSE '' END END AS nn0
FROM "CDP"."CUSTOMER__PH_PH_CTX2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT2" AS SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM "CDP"."CUSTOMER__PH_PH_NAT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_EXT" AS SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) AS viable,
  LENGTH(REGEXP_REPLACE(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '')) AS ext_at
FROM "CDP"."CUSTOMER__PH_PH_NAT2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NN" AS SELECT raw, region, bad_ctx, viable, (REGEXP_INSTR(nn1, '[+＋]') > 0) AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(SUBSTR(nn1, 1, ext_at), 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM "CDP"."CUSTOMER__PH_PH_EXT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_REST" AS SELECT raw, region, bad_ctx, viable, has_plus, (REGEXP_INSTR(nn, '^[+＋]') > 0) AS plus,
  REGEXP_REPLACE(nn, '^[+＋]+', '') AS rest
FROM "CDP"."CUSTOMER__PH_PH_NN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_D" AS SELECT raw, region, bad_ctx, viable, has_plus, plus,
  REGEXP_REPLACE(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(REGEXP_REPLACE(rest, '[^A-Za-z]', '')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '') AS dg
FROM "CDP"."CUSTOMER__PH_PH_REST";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IDD" AS SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(REGEXP_REPLACE(dg, '^(?:' || r.idd || ')', '', 1, 1)) ELSE 0 END AS idd_len
FROM "CDP"."CUSTOMER__PH_PH_D" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CC" AS SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM "CDP"."CUSTOMER__PH_PH_IDD";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P1" AS SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT (REGEXP_INSTR(k.p0, '^(?:' || r.npp || ')') > 0) THEN k.p0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.p0, r.probe) > 0) THEN REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS p_cand
FROM "CDP"."CUSTOMER__PH_PH_CC" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P2" AS SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.p0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.p_cand, '^(?:' || r.general || ')$') > 0) THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.dg, '^(?:' || r.general || ')$') > 0) END AS dg_valid
FROM "CDP"."CUSTOMER__PH_PH_P1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P3" AS SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.p1, '^(?:' || r.general || ')$') > 0) END AS p1_valid
FROM "CDP"."CUSTOMER__PH_PH_P2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_PICK" AS SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM "CDP"."CUSTOMER__PH_PH_P3";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_M" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM "CDP"."CUSTOMER__PH_PH_PICK" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mr ON NOT k.cc_found AND mr.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S1" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT (REGEXP_INSTR(k.n0, '^(?:' || r.npp || ')') > 0) THEN k.n0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.n0, r.probe) > 0) THEN REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS n_cand
FROM "CDP"."CUSTOMER__PH_PH_M" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S2" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.n0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.n_cand, '^(?:' || r.general || ')$') > 0) THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM "CDP"."CUSTOMER__PH_PH_S1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_N" AS SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM "CDP"."CUSTOMER__PH_PH_S2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_LEN" AS SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM "CDP"."CUSTOMER__PH_PH_N";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CAND" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.general || ')$') > 0)) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t0 || ')$') > 0))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t1 || ')$') > 0))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t2 || ')$') > 0))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t3 || ')$') > 0))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t4 || ')$') > 0))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t5 || ')$') > 0))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t6 || ')$') > 0))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t7 || ')$') > 0))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t8 || ')$') > 0))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t9 || ')$') > 0)))) AS ok
FROM "CDP"."CUSTOMER__PH_PH_LEN" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" c ON c.cc = k.cc AND k.reason IS NULL;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CLAIM" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN (REGEXP_INSTR(k.nsn, '^(?:' || k.leading_digits || ')') > 0) THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM "CDP"."CUSTOMER__PH_PH_CAND" k;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_VALID" AS SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM "CDP"."CUSTOMER__PH_PH_CLAIM"
GROUP BY raw, region;
--   -- store them in the phone map
INSERT INTO "CDP"."CUSTOMER_PHONE_MAP_CRM_CONTACTS_4BB521D638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM "CDP"."CUSTOMER__PH_PH_VALID" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
--   -- drop the scratch tables
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_EXT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_REST";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_D";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IDD";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CC";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P3";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_PICK";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_M";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_N";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_LEN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CAND";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CLAIM";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_VALID";
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_CRM_CONTACTS" COPY GRANTS AS SELECT
  v.*,
  pm_1.e164 AS "_CDP_ID_1",
  CASE WHEN v."_CDP_RAW_1" IS NULL OR v."_CDP_RAW_1" = '' THEN NULL WHEN TRIM(v."_CDP_RAW_1", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_1.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_1.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_CDP_REGION_1" <> '' THEN pm_1.reason || ' for ' || v."_CDP_REGION_1" ELSE pm_1.reason END AS "_CDP_INVALID_1"
FROM (
SELECT
  src.*,
  CAST(src."UPDATED_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END AS "_CDP_ID_0",
  CAST(src."EMAIL" AS VARCHAR) AS "_CDP_RAW_0",
  CASE WHEN CAST(src."EMAIL" AS VARCHAR) IS NULL OR CAST(src."EMAIL" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END IS NULL THEN 'not an email' END AS "_CDP_INVALID_0",
  CAST(src."PHONE" AS VARCHAR) AS "_CDP_RAW_1",
  COALESCE(NULLIF(TRANSLATE(TRIM(CAST(src."COUNTRY" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), ''), 'FR') AS "_CDP_REGION_1",
  NULLIF(LOWER(TRANSLATE(TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '') AS "_CDP_ID_2",
  CAST(src."LOYALTY_CARD" AS VARCHAR) AS "_CDP_RAW_2",
  CASE WHEN CAST(src."LOYALTY_CARD" AS VARCHAR) IS NULL OR CAST(src."LOYALTY_CARD" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(LOWER(TRANSLATE(TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_2",
  NULLIF(TRIM(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_CDP_ID_3",
  CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) AS "_CDP_RAW_3",
  CASE WHEN CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) IS NULL OR CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(TRIM(CAST(('crm-' || CAST(contact_id AS VARCHAR)) AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_3"
FROM "CDP"."SEED_CRM_CONTACTS" AS src
) AS v
LEFT JOIN "CDP"."CUSTOMER_PHONE_MAP_CRM_CONTACTS_4BB521D638" AS pm_1 ON pm_1.raw = v."_CDP_RAW_1" AND pm_1.region = v."_CDP_REGION_1";

-- node: source.shop_customers (models/sources.yml:26)
-- the phone map of the source: one row per (value, region)
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_PHONE_MAP_SHOP_CUSTOMERS_4BB521D638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of shop_customers not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, 'FR' AS region FROM "CDP"."SEED_SHOP_CUSTOMERS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_SHOP_CUSTOMERS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- normalize the new phone numbers (libphonenumber's parse, in SQL)
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IN" AS SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, 'FR' AS region FROM "CDP"."SEED_SHOP_CUSTOMERS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_SHOP_CUSTOMERS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX" AS SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM "CDP"."CUSTOMER__PH_PH_IN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX2" AS SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM "CDP"."CUSTOMER__PH_PH_CTX";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT" AS SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT ((REGEXP_INSTR(ctx, '^\\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') > 0) OR (REGEXP_INSTR(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\\.?$') > 0)))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN (REGEXP_INSTR(s, '[+＋0-9]') > 0) THEN REGEXP_REPLACE(REGEXP_REPLACE(s, '^[^+＋0-9]+', ''), '[\\\\/] *x(?:.|\\n)*$', '') ELSE '' END END AS nn0
FROM "CDP"."CUSTOMER__PH_PH_CTX2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT2" AS SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM "CDP"."CUSTOMER__PH_PH_NAT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_EXT" AS SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) AS viable,
  LENGTH(REGEXP_REPLACE(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '')) AS ext_at
FROM "CDP"."CUSTOMER__PH_PH_NAT2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NN" AS SELECT raw, region, bad_ctx, viable, (REGEXP_INSTR(nn1, '[+＋]') > 0) AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(SUBSTR(nn1, 1, ext_at), 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM "CDP"."CUSTOMER__PH_PH_EXT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_REST" AS SELECT raw, region, bad_ctx, viable, has_plus, (REGEXP_INSTR(nn, '^[+＋]') > 0) AS plus,
  REGEXP_REPLACE(nn, '^[+＋]+', '') AS rest
FROM "CDP"."CUSTOMER__PH_PH_NN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_D" AS SELECT raw, region, bad_ctx, viable, has_plus, plus,
  REGEXP_REPLACE(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(REGEXP_REPLACE(rest, '[^A-Za-z]', '')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '') AS dg
FROM "CDP"."CUSTOMER__PH_PH_REST";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IDD" AS SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(REGEXP_REPLACE(dg, '^(?:' || r.idd || ')', '', 1, 1)) ELSE 0 END AS idd_len
FROM "CDP"."CUSTOMER__PH_PH_D" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CC" AS SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM "CDP"."CUSTOMER__PH_PH_IDD";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P1" AS SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT (REGEXP_INSTR(k.p0, '^(?:' || r.npp || ')') > 0) THEN k.p0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.p0, r.probe) > 0) THEN REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS p_cand
FROM "CDP"."CUSTOMER__PH_PH_CC" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P2" AS SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.p0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.p_cand, '^(?:' || r.general || ')$') > 0) THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.dg, '^(?:' || r.general || ')$') > 0) END AS dg_valid
FROM "CDP"."CUSTOMER__PH_PH_P1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P3" AS SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.p1, '^(?:' || r.general || ')$') > 0) END AS p1_valid
FROM "CDP"."CUSTOMER__PH_PH_P2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_PICK" AS SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM "CDP"."CUSTOMER__PH_PH_P3";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_M" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM "CDP"."CUSTOMER__PH_PH_PICK" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mr ON NOT k.cc_found AND mr.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S1" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT (REGEXP_INSTR(k.n0, '^(?:' || r.npp || ')') > 0) THEN k.n0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.n0, r.probe) > 0) THEN REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS n_cand
FROM "CDP"."CUSTOMER__PH_PH_M" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S2" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.n0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.n_cand, '^(?:' || r.general || ')$') > 0) THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM "CDP"."CUSTOMER__PH_PH_S1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_N" AS SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM "CDP"."CUSTOMER__PH_PH_S2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_LEN" AS SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM "CDP"."CUSTOMER__PH_PH_N";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CAND" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.general || ')$') > 0)) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t0 || ')$') > 0))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t1 || ')$') > 0))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t2 || ')$') > 0))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t3 || ')$') > 0))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t4 || ')$') > 0))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t5 || ')$') > 0))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t6 || ')$') > 0))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t7 || ')$') > 0))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t8 || ')$') > 0))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t9 || ')$') > 0)))) AS ok
FROM "CDP"."CUSTOMER__PH_PH_LEN" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" c ON c.cc = k.cc AND k.reason IS NULL;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CLAIM" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN (REGEXP_INSTR(k.nsn, '^(?:' || k.leading_digits || ')') > 0) THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM "CDP"."CUSTOMER__PH_PH_CAND" k;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_VALID" AS SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM "CDP"."CUSTOMER__PH_PH_CLAIM"
GROUP BY raw, region;
--   -- store them in the phone map
INSERT INTO "CDP"."CUSTOMER_PHONE_MAP_SHOP_CUSTOMERS_4BB521D638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM "CDP"."CUSTOMER__PH_PH_VALID" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
--   -- drop the scratch tables
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_EXT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_REST";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_D";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IDD";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CC";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P3";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_PICK";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_M";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_N";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_LEN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CAND";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CLAIM";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_VALID";
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" COPY GRANTS AS SELECT
  v.*,
  pm_2.e164 AS "_CDP_ID_2",
  CASE WHEN v."_CDP_RAW_2" IS NULL OR v."_CDP_RAW_2" = '' THEN NULL WHEN TRIM(v."_CDP_RAW_2", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_2.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_2.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_CDP_REGION_2" <> '' THEN pm_2.reason || ' for ' || v."_CDP_REGION_2" ELSE pm_2.reason END AS "_CDP_INVALID_2"
FROM (
SELECT
  src.*,
  CAST(src."SIGNUP_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  NULLIF(TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_CDP_ID_0",
  CAST(src."CUSTOMER_ID" AS VARCHAR) AS "_CDP_RAW_0",
  CASE WHEN CAST(src."CUSTOMER_ID" AS VARCHAR) IS NULL OR CAST(src."CUSTOMER_ID" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_0",
  CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END AS "_CDP_ID_1",
  CAST(src."EMAIL" AS VARCHAR) AS "_CDP_RAW_1",
  CASE WHEN CAST(src."EMAIL" AS VARCHAR) IS NULL OR CAST(src."EMAIL" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END IS NULL THEN 'not an email' END AS "_CDP_INVALID_1",
  CAST(src."PHONE" AS VARCHAR) AS "_CDP_RAW_2",
  'FR' AS "_CDP_REGION_2"
FROM "CDP"."SEED_SHOP_CUSTOMERS" AS src
) AS v
LEFT JOIN "CDP"."CUSTOMER_PHONE_MAP_SHOP_CUSTOMERS_4BB521D638" AS pm_2 ON pm_2.raw = v."_CDP_RAW_2" AND pm_2.region = v."_CDP_REGION_2";

-- node: source.orders (models/sources.yml:40)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_ORDERS" COPY GRANTS AS SELECT
  src.*,
  CAST(src."ORDERED_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  NULLIF(TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_CDP_ID_0",
  CAST(src."CUSTOMER_ID" AS VARCHAR) AS "_CDP_RAW_0",
  CASE WHEN CAST(src."CUSTOMER_ID" AS VARCHAR) IS NULL OR CAST(src."CUSTOMER_ID" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(TRIM(CAST(src."CUSTOMER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_0",
  CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END AS "_CDP_ID_1",
  CAST(src."EMAIL" AS VARCHAR) AS "_CDP_RAW_1",
  CASE WHEN CAST(src."EMAIL" AS VARCHAR) IS NULL OR CAST(src."EMAIL" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END IS NULL THEN 'not an email' END AS "_CDP_INVALID_1"
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
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_PHONE_MAP_POS_TRANSACTIONS_4BB521D638" (raw VARCHAR, region VARCHAR, e164 VARCHAR, reason VARCHAR);
-- repeat: phone numbers of pos_transactions not in the map
--   while (SELECT COUNT(*) FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, 'FR' AS region FROM "CDP"."SEED_POS_TRANSACTIONS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_POS_TRANSACTIONS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS n) > 0, at most 1 rounds
--   -- normalize the new phone numbers (libphonenumber's parse, in SQL)
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IN" AS SELECT raw, COALESCE(region, '') AS region, TRANSLATE(raw, '٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９', '012345678901234567890123456789') AS s
FROM (
SELECT DISTINCT raw, region FROM (
SELECT CAST(src."PHONE" AS VARCHAR) AS raw, 'FR' AS region FROM "CDP"."SEED_POS_TRANSACTIONS" AS src
) AS pairs
WHERE raw IS NOT NULL AND TRIM(raw, '	
                  　᠎​‌‍⁠﻿') <> ''
  AND NOT EXISTS (SELECT 1 FROM "CDP"."CUSTOMER_PHONE_MAP_POS_TRANSACTIONS_4BB521D638" AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)
) AS fresh;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX" AS SELECT raw, region, s, STRPOS(s, ';phone-context=') AS pc, STRPOS(s, 'tel:') AS tel,
  CASE WHEN STRPOS(s, ';phone-context=') > 0 THEN SUBSTR(s, STRPOS(s, ';phone-context=') + 15) END AS ctx_tail
FROM "CDP"."CUSTOMER__PH_PH_IN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CTX2" AS SELECT raw, region, s, pc, tel,
  CASE WHEN STRPOS(ctx_tail, ';') > 0 THEN SUBSTR(ctx_tail, 1, STRPOS(ctx_tail, ';') - 1) ELSE ctx_tail END AS ctx
FROM "CDP"."CUSTOMER__PH_PH_CTX";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT" AS SELECT raw, region,
  (pc > 0 AND (ctx IS NULL OR ctx = '' OR NOT ((REGEXP_INSTR(ctx, '^\\+(?:[0-9]|[-.()])*[0-9](?:[0-9]|[-.()])*$') > 0) OR (REGEXP_INSTR(ctx, '^(?:[a-zA-Z0-9]+(?:-*[a-zA-Z0-9])*\\.)*[a-zA-Z]+(?:-*[a-zA-Z0-9])*\\.?$') > 0)))) AS bad_ctx,
  CASE WHEN pc > 1 THEN CASE WHEN ctx LIKE '+%' THEN ctx ELSE '' END || SUBSTR(s, CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END, pc - (CASE WHEN tel > 0 AND tel < pc THEN tel + 4 ELSE 1 END))
    ELSE CASE WHEN (REGEXP_INSTR(s, '[+＋0-9]') > 0) THEN REGEXP_REPLACE(REGEXP_REPLACE(s, '^[^+＋0-9]+', ''), '[\\\\/] *x(?:.|\\n)*$', '') ELSE '' END END AS nn0
FROM "CDP"."CUSTOMER__PH_PH_CTX2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NAT2" AS SELECT raw, region, bad_ctx,
  CASE WHEN STRPOS(nn0, ';isub=') > 1 THEN SUBSTR(nn0, 1, STRPOS(nn0, ';isub=') - 1) ELSE nn0 END AS nn1
FROM "CDP"."CUSTOMER__PH_PH_NAT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_EXT" AS SELECT raw, region, bad_ctx, nn1, (LENGTH(nn1) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) AS viable,
  LENGTH(REGEXP_REPLACE(LOWER(TRANSLATE(nn1, 'İΣ', 'iσ')), '(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)$', '')) AS ext_at
FROM "CDP"."CUSTOMER__PH_PH_NAT2";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_NN" AS SELECT raw, region, bad_ctx, viable, (REGEXP_INSTR(nn1, '[+＋]') > 0) AS has_plus,
  CASE WHEN ext_at < LENGTH(nn1) AND (LENGTH(SUBSTR(nn1, 1, ext_at)) >= 2 AND (REGEXP_INSTR(LOWER(TRANSLATE(SUBSTR(nn1, 1, ext_at), 'İΣ', 'iσ')), '^(?:[0-9]{2}|[+＋]*(?:[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*]*[0-9]){3,}[-x‐-―−ー－-／  ­​⁠　()（）［］.\\[\\]/~⁓∼～*a-z0-9]*(?:;ext=[0-9]{1,20}|[  	,]*(?:e?xt(?:ensi(?:ó?|ó))?n?|ｅ?ｘｔｎ?|доб|anexo)[:.．]?[  	,-]*[0-9]{1,20}#?|[  	,]*(?:[xｘ#＃~～]|int|ｉｎｔ)[:.．]?[  	,-]*[0-9]{1,9}#?|[- ]+[0-9]{1,6}#|[  	]*(?:,{2}|;)[:.．]?[  	,-]*[0-9]{1,15}#?|[  	]*,+[:.．]?[  	,-]*[0-9]{1,9}#?)?)$') > 0)) THEN SUBSTR(nn1, 1, ext_at) ELSE nn1 END AS nn
FROM "CDP"."CUSTOMER__PH_PH_EXT";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_REST" AS SELECT raw, region, bad_ctx, viable, has_plus, (REGEXP_INSTR(nn, '^[+＋]') > 0) AS plus,
  REGEXP_REPLACE(nn, '^[+＋]+', '') AS rest
FROM "CDP"."CUSTOMER__PH_PH_NN";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_D" AS SELECT raw, region, bad_ctx, viable, has_plus, plus,
  REGEXP_REPLACE(CASE WHEN (STRPOS(rest, '
') = 0 AND LENGTH(REGEXP_REPLACE(rest, '[^A-Za-z]', '')) >= 3) THEN TRANSLATE(rest, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', '2223334445556667777888999922233344455566677778889999') ELSE rest END, '[^0-9]', '') AS dg
FROM "CDP"."CUSTOMER__PH_PH_REST";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_IDD" AS SELECT k.raw, k.region, k.bad_ctx, k.viable, k.has_plus, k.plus, k.dg, r.cc AS region_cc,
  CASE WHEN r.idd IS NOT NULL AND r.idd <> '' THEN LENGTH(dg) - LENGTH(REGEXP_REPLACE(dg, '^(?:' || r.idd || ')', '', 1, 1)) ELSE 0 END AS idd_len
FROM "CDP"."CUSTOMER__PH_PH_D" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CC" AS SELECT raw, region, bad_ctx, viable, has_plus, plus, dg, region_cc,
  (idd_len > 0 AND SUBSTR(dg, idd_len + 1, 1) <> '0') AS idd, SUBSTR(dg, idd_len + 1) AS after_idd,
  CASE WHEN SUBSTR(dg, 1, 1) IN ('1', '7') THEN SUBSTR(dg, 1, 1) WHEN SUBSTR(dg, 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(dg, 1, 2) WHEN SUBSTR(dg, 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(dg, 1, 3) END AS cc_plus, CASE WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) IN ('1', '7') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 1) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) IN ('20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49', '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90', '91', '92', '93', '94', '95', '98') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 2) WHEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) IN ('211', '212', '213', '216', '218', '220', '221', '222', '223', '224', '225', '226', '227', '228', '229', '230', '231', '232', '233', '234', '235', '236', '237', '238', '239', '240', '241', '242', '243', '244', '245', '246', '247', '248', '249', '250', '251', '252', '253', '254', '255', '256', '257', '258', '260', '261', '262', '263', '264', '265', '266', '267', '268', '269', '290', '291', '297', '298', '299', '350', '351', '352', '353', '354', '355', '356', '357', '358', '359', '370', '371', '372', '373', '374', '375', '376', '377', '378', '380', '381', '382', '383', '385', '386', '387', '389', '420', '421', '423', '500', '501', '502', '503', '504', '505', '506', '507', '508', '509', '590', '591', '592', '593', '594', '595', '596', '597', '598', '599', '670', '672', '673', '674', '675', '676', '677', '678', '679', '680', '681', '682', '683', '685', '686', '687', '688', '689', '690', '691', '692', '800', '808', '850', '852', '853', '855', '856', '870', '878', '880', '881', '882', '883', '886', '888', '960', '961', '962', '963', '964', '965', '966', '967', '968', '970', '971', '972', '973', '974', '975', '976', '977', '979', '992', '993', '994', '995', '996', '998') THEN SUBSTR(SUBSTR(dg, idd_len + 1), 1, 3) END AS cc_idd,
  CASE WHEN region_cc IS NOT NULL AND SUBSTR(dg, 1, LENGTH(region_cc)) = region_cc THEN SUBSTR(dg, LENGTH(region_cc) + 1) END AS p0
FROM "CDP"."CUSTOMER__PH_PH_IDD";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P1" AS SELECT k.*, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.p0 = '' OR NOT (REGEXP_INSTR(k.p0, '^(?:' || r.npp || ')') > 0) THEN k.p0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.p0, r.probe) > 0) THEN REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.p0, LENGTH(k.p0) - LENGTH(REGEXP_REPLACE(k.p0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS p_cand
FROM "CDP"."CUSTOMER__PH_PH_CC" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P2" AS SELECT k.*, CASE WHEN k.p0 IS NULL THEN NULL ELSE CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.p0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.p_cand, '^(?:' || r.general || ')$') > 0) THEN k.p0 ELSE k.p_cand END END AS p1,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.dg) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND LENGTH(k.dg) > r.max_length) END AS dg_too_long,
  CASE WHEN k.p0 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.dg, '^(?:' || r.general || ')$') > 0) END AS dg_valid
FROM "CDP"."CUSTOMER__PH_PH_P1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_P3" AS SELECT k.*, CASE WHEN k.p1 IS NULL THEN FALSE ELSE (REGEXP_INSTR(k.p1, '^(?:' || r.general || ')$') > 0) END AS p1_valid
FROM "CDP"."CUSTOMER__PH_PH_P2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_PICK" AS SELECT raw, region, CASE WHEN LENGTH(raw) > 250 THEN 'too long' WHEN bad_ctx OR NOT viable THEN 'not a phone number' WHEN region = '' AND NOT has_plus THEN 'invalid country code' WHEN plus AND LENGTH(dg) <= 2 THEN 'too short after the international prefix' WHEN plus AND cc_plus IS NOT NULL THEN NULL WHEN idd AND LENGTH(after_idd) <= 2 THEN 'too short after the international prefix' WHEN idd AND cc_idd IS NULL THEN 'invalid country code' WHEN plus AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' WHEN region = '' AND (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NULL THEN 'invalid country code' END AS reason0,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN cc_plus ELSE COALESCE(CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END, region_cc) END AS cc,
  CASE WHEN plus AND cc_plus IS NOT NULL THEN SUBSTR(dg, LENGTH(cc_plus) + 1) ELSE COALESCE(CASE WHEN idd THEN SUBSTR(after_idd, LENGTH(cc_idd) + 1) WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN p1 END, dg) END AS n0,
  ((plus AND cc_plus IS NOT NULL) OR (CASE WHEN idd THEN cc_idd WHEN p0 IS NOT NULL AND ((NOT dg_valid AND p1_valid) OR dg_too_long) THEN region_cc END) IS NOT NULL) AS cc_found
FROM "CDP"."CUSTOMER__PH_PH_P3";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_M" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, COALESCE(mc.id, mr.id) AS meta_id
FROM "CDP"."CUSTOMER__PH_PH_PICK" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON k.cc_found AND mc.cc = k.cc AND mc.ord = 0
LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mr ON NOT k.cc_found AND mr.id = k.region;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S1" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, k.meta_id, CASE WHEN r.npp IS NULL OR r.npp = '' OR k.n0 = '' OR NOT (REGEXP_INSTR(k.n0, '^(?:' || r.npp || ')') > 0) THEN k.n0 WHEN r.npt <> '' AND (REGEXP_INSTR(k.n0, r.probe) > 0) THEN REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', r.npt, 1, 1) ELSE SUBSTR(k.n0, LENGTH(k.n0) - LENGTH(REGEXP_REPLACE(k.n0, '^(?:' || r.npp || ')', '', 1, 1)) + 1) END AS n_cand
FROM "CDP"."CUSTOMER__PH_PH_M" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_S2" AS SELECT k.raw, k.region, k.reason0, k.cc, k.n0, CASE WHEN r.npp IS NOT NULL AND (REGEXP_INSTR(k.n0, '^(?:' || r.general || ')$') > 0) AND NOT (REGEXP_INSTR(k.n_cand, '^(?:' || r.general || ')$') > 0) THEN k.n0 ELSE k.n_cand END AS n_strip, k.meta_id
FROM "CDP"."CUSTOMER__PH_PH_S1" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_N" AS SELECT k.raw, k.region, k.cc,
  COALESCE(k.reason0, CASE WHEN LENGTH(k.n0) < 2 THEN 'too short' END) AS reason1,
  CASE WHEN r.id IS NOT NULL AND (NOT STRPOS(r.local_lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0 AND r.min_length <> -1 AND (LENGTH(k.n_strip) > r.max_length OR STRPOS(r.lengths, ',' || CAST(LENGTH(k.n_strip) AS VARCHAR) || ',') > 0)) THEN k.n_strip ELSE k.n0 END AS nsn
FROM "CDP"."CUSTOMER__PH_PH_S2" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" r ON r.id = k.meta_id;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_LEN" AS SELECT raw, region, cc, nsn, COALESCE(reason1,
  CASE WHEN LENGTH(nsn) < 2 THEN 'too short' WHEN LENGTH(nsn) > 17 THEN 'too long' END) AS reason
FROM "CDP"."CUSTOMER__PH_PH_N";
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CAND" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, c.ord, c.nregions, c.leading_digits,
  (((c.lengths = '' OR STRPOS(c.lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.general || ')$') > 0)) AND ((c.t0 <> '' AND (c.t0_lengths = '' OR STRPOS(c.t0_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t0 || ')$') > 0))
    OR (c.t1 <> '' AND (c.t1_lengths = '' OR STRPOS(c.t1_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t1 || ')$') > 0))
    OR (c.t2 <> '' AND (c.t2_lengths = '' OR STRPOS(c.t2_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t2 || ')$') > 0))
    OR (c.t3 <> '' AND (c.t3_lengths = '' OR STRPOS(c.t3_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t3 || ')$') > 0))
    OR (c.t4 <> '' AND (c.t4_lengths = '' OR STRPOS(c.t4_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t4 || ')$') > 0))
    OR (c.t5 <> '' AND (c.t5_lengths = '' OR STRPOS(c.t5_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t5 || ')$') > 0))
    OR (c.t6 <> '' AND (c.t6_lengths = '' OR STRPOS(c.t6_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t6 || ')$') > 0))
    OR (c.t7 <> '' AND (c.t7_lengths = '' OR STRPOS(c.t7_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t7 || ')$') > 0))
    OR (c.t8 <> '' AND (c.t8_lengths = '' OR STRPOS(c.t8_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t8 || ')$') > 0))
    OR (c.t9 <> '' AND (c.t9_lengths = '' OR STRPOS(c.t9_lengths, ',' || CAST(LENGTH(k.nsn) AS VARCHAR) || ',') > 0) AND (REGEXP_INSTR(k.nsn, '^(?:' || c.t9 || ')$') > 0)))) AS ok
FROM "CDP"."CUSTOMER__PH_PH_LEN" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" c ON c.cc = k.cc AND k.reason IS NULL;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_CLAIM" AS SELECT k.raw, k.region, k.cc, k.nsn, k.reason, k.ord, CASE WHEN k.ok THEN 1 ELSE 0 END AS ok,
  CASE WHEN k.nregions = 1 THEN 1 WHEN k.leading_digits <> '' THEN CASE WHEN (REGEXP_INSTR(k.nsn, '^(?:' || k.leading_digits || ')') > 0) THEN 1 ELSE 0 END WHEN k.ok THEN 1 ELSE 0 END AS claim
FROM "CDP"."CUSTOMER__PH_PH_CAND" k;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__PH_PH_VALID" AS SELECT raw, region, MIN(cc) AS cc, MIN(nsn) AS nsn, MIN(reason) AS reason,
  MIN(CASE WHEN claim = 1 THEN ord END) AS chosen, MIN(CASE WHEN claim = 1 AND ok = 1 THEN ord END) AS chosen_ok
FROM "CDP"."CUSTOMER__PH_PH_CLAIM"
GROUP BY raw, region;
--   -- store them in the phone map
INSERT INTO "CDP"."CUSTOMER_PHONE_MAP_POS_TRANSACTIONS_4BB521D638" (raw, region, e164, reason)
SELECT raw, region, e164, reason FROM (
SELECT k.raw, k.region,
  CASE WHEN k.reason IS NULL AND (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN '+' || k.cc || k.nsn END AS e164,
  CASE WHEN k.reason IS NOT NULL THEN k.reason WHEN (k.chosen IS NOT NULL AND k.chosen = k.chosen_ok) THEN NULL WHEN mc.id IS NULL THEN 'invalid country code' ELSE 'invalid number for ' || CASE WHEN mc.id LIKE '001:%' THEN '+' || k.cc ELSE mc.id END END AS reason
FROM "CDP"."CUSTOMER__PH_PH_VALID" k LEFT JOIN "CDP"."CDP_PHONE_REGIONS_4BB521D638" mc ON mc.cc = k.cc AND mc.ord = 0
) AS normalized;
--   -- drop the scratch tables
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CTX2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NAT2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_EXT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_NN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_REST";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_D";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_IDD";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CC";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_P3";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_PICK";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_M";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S1";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_S2";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_N";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_LEN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CAND";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_CLAIM";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__PH_PH_VALID";
-- end repeat
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" COPY GRANTS AS SELECT
  v.*,
  pm_2.e164 AS "_CDP_ID_2",
  CASE WHEN v."_CDP_RAW_2" IS NULL OR v."_CDP_RAW_2" = '' THEN NULL WHEN TRIM(v."_CDP_RAW_2", '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN pm_2.raw IS NULL THEN 'not normalized yet: run the source node' WHEN pm_2.reason IN ('too short', 'too long', 'too short after the international prefix') AND v."_CDP_REGION_2" <> '' THEN pm_2.reason || ' for ' || v."_CDP_REGION_2" ELSE pm_2.reason END AS "_CDP_INVALID_2"
FROM (
SELECT
  src.*,
  CAST(src."OCCURRED_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  NULLIF(LOWER(TRANSLATE(TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '') AS "_CDP_ID_0",
  CAST(src."LOYALTY_CARD" AS VARCHAR) AS "_CDP_RAW_0",
  CASE WHEN CAST(src."LOYALTY_CARD" AS VARCHAR) IS NULL OR CAST(src."LOYALTY_CARD" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(LOWER(TRANSLATE(TRIM(CAST(src."LOYALTY_CARD" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_0",
  CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END AS "_CDP_ID_1",
  CAST(src."EMAIL" AS VARCHAR) AS "_CDP_RAW_1",
  CASE WHEN CAST(src."EMAIL" AS VARCHAR) IS NULL OR CAST(src."EMAIL" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END IS NULL THEN 'not an email' END AS "_CDP_INVALID_1",
  CAST(src."PHONE" AS VARCHAR) AS "_CDP_RAW_2",
  'FR' AS "_CDP_REGION_2"
FROM "CDP"."SEED_POS_TRANSACTIONS" AS src
) AS v
LEFT JOIN "CDP"."CUSTOMER_PHONE_MAP_POS_TRANSACTIONS_4BB521D638" AS pm_2 ON pm_2.raw = v."_CDP_RAW_2" AND pm_2.region = v."_CDP_REGION_2";

-- node: source.web_events (models/sources.yml:70)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_WEB_EVENTS" COPY GRANTS AS SELECT
  src.*,
  CAST(src."OCCURRED_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  NULLIF(CAST(src."ANONYMOUS_ID" AS VARCHAR), '') AS "_CDP_ID_0",
  CAST(src."ANONYMOUS_ID" AS VARCHAR) AS "_CDP_RAW_0",
  CAST(NULL AS VARCHAR) AS "_CDP_INVALID_0",
  NULLIF(TRIM(CAST(src."USER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') AS "_CDP_ID_1",
  CAST(src."USER_ID" AS VARCHAR) AS "_CDP_RAW_1",
  CASE WHEN CAST(src."USER_ID" AS VARCHAR) IS NULL OR CAST(src."USER_ID" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."USER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN NULLIF(TRIM(CAST(src."USER_ID" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), '') IS NULL THEN 'empty after trimming' END AS "_CDP_INVALID_1"
FROM "CDP"."SEED_WEB_EVENTS" AS src;

-- node: source.consent_events (models/sources.yml:82)
-- view over the source with normalized identifiers
CREATE OR REPLACE VIEW "CDP"."CUSTOMER_SRC_CONSENT_EVENTS" COPY GRANTS AS SELECT
  src.*,
  CAST(src."OCCURRED_AT" AS TIMESTAMP_NTZ) AS "_CDP_TS",
  CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END AS "_CDP_ID_0",
  CAST(src."EMAIL" AS VARCHAR) AS "_CDP_RAW_0",
  CASE WHEN CAST(src."EMAIL" AS VARCHAR) IS NULL OR CAST(src."EMAIL" AS VARCHAR) = '' THEN NULL WHEN TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = '' THEN 'empty after trimming' WHEN CASE WHEN (REGEXP_INSTR(LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')), '^[^@	
                  　᠎​‌‍⁠﻿]+@[^@	
                  　᠎​‌‍⁠﻿]+\\.[^@	
                  　᠎​‌‍⁠﻿]+$') > 0) THEN LOWER(TRANSLATE(TRIM(CAST(src."EMAIL" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) END IS NULL THEN 'not an email' END AS "_CDP_INVALID_0"
FROM "CDP"."SEED_CONSENT_EVENTS" AS src;

-- node: identity.customer (models/identity.yml:9)
-- occurrences: every normalized identifier of every source row
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_OCC" AS SELECT 'email' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'crm_contacts' AS source FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_0" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_CDP_ID_1" AS id_value, "_CDP_TS" AS ts, 'crm_contacts' AS source FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_1" IS NOT NULL
UNION ALL
SELECT 'loyalty_card' AS id_type, "_CDP_ID_2" AS id_value, "_CDP_TS" AS ts, 'crm_contacts' AS source FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_2" IS NOT NULL
UNION ALL
SELECT 'crm_id' AS id_type, "_CDP_ID_3" AS id_value, "_CDP_TS" AS ts, 'crm_contacts' AS source FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_3" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'shop_customers' AS source FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_CDP_ID_1" AS id_value, "_CDP_TS" AS ts, 'shop_customers' AS source FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_1" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_CDP_ID_2" AS id_value, "_CDP_TS" AS ts, 'shop_customers' AS source FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_2" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'orders' AS source FROM "CDP"."CUSTOMER_SRC_ORDERS" WHERE "_CDP_ID_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_CDP_ID_1" AS id_value, "_CDP_TS" AS ts, 'orders' AS source FROM "CDP"."CUSTOMER_SRC_ORDERS" WHERE "_CDP_ID_1" IS NOT NULL
UNION ALL
SELECT 'loyalty_card' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'pos_transactions' AS source FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_0" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_CDP_ID_1" AS id_value, "_CDP_TS" AS ts, 'pos_transactions' AS source FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_1" IS NOT NULL
UNION ALL
SELECT 'phone' AS id_type, "_CDP_ID_2" AS id_value, "_CDP_TS" AS ts, 'pos_transactions' AS source FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_2" IS NOT NULL
UNION ALL
SELECT 'anonymous_id' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'web_events' AS source FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" WHERE "_CDP_ID_0" IS NOT NULL
UNION ALL
SELECT 'user_id' AS id_type, "_CDP_ID_1" AS id_value, "_CDP_TS" AS ts, 'web_events' AS source FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" WHERE "_CDP_ID_1" IS NOT NULL
UNION ALL
SELECT 'email' AS id_type, "_CDP_ID_0" AS id_value, "_CDP_TS" AS ts, 'consent_events' AS source FROM "CDP"."CUSTOMER_SRC_CONSENT_EVENTS" WHERE "_CDP_ID_0" IS NOT NULL;
-- per identifier and source: earliest and latest row
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_SRCNODES" AS SELECT id_type, id_value, source, MIN(ts) AS min_ts, MAX(ts) AS max_ts
FROM "CDP"."CUSTOMER__ID_OCC"
GROUP BY id_type, id_value, source;
-- invalid: values a normalizer rejected, with the reason
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_INVALID" AS SELECT DISTINCT id_type, id_value, reason FROM (
  SELECT 'email' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_INVALID_0" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_CDP_RAW_1" AS id_value, "_CDP_INVALID_1" AS reason FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_INVALID_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS id_type, "_CDP_RAW_2" AS id_value, "_CDP_INVALID_2" AS reason FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_INVALID_2" IS NOT NULL
  UNION ALL
  SELECT 'crm_id' AS id_type, "_CDP_RAW_3" AS id_value, "_CDP_INVALID_3" AS reason FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_INVALID_3" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_INVALID_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_CDP_RAW_1" AS id_value, "_CDP_INVALID_1" AS reason FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_INVALID_1" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_CDP_RAW_2" AS id_value, "_CDP_INVALID_2" AS reason FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_INVALID_2" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_ORDERS" WHERE "_CDP_INVALID_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_CDP_RAW_1" AS id_value, "_CDP_INVALID_1" AS reason FROM "CDP"."CUSTOMER_SRC_ORDERS" WHERE "_CDP_INVALID_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_INVALID_0" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_CDP_RAW_1" AS id_value, "_CDP_INVALID_1" AS reason FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_INVALID_1" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS id_type, "_CDP_RAW_2" AS id_value, "_CDP_INVALID_2" AS reason FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_INVALID_2" IS NOT NULL
  UNION ALL
  SELECT 'anonymous_id' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" WHERE "_CDP_INVALID_0" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS id_type, "_CDP_RAW_1" AS id_value, "_CDP_INVALID_1" AS reason FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" WHERE "_CDP_INVALID_1" IS NOT NULL
  UNION ALL
  SELECT 'email' AS id_type, "_CDP_RAW_0" AS id_value, "_CDP_INVALID_0" AS reason FROM "CDP"."CUSTOMER_SRC_CONSENT_EVENTS" WHERE "_CDP_INVALID_0" IS NOT NULL
) i;
-- nodes: one per (id_type, id_value), numbered in byte order
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_NODES" AS SELECT ROW_NUMBER() OVER (ORDER BY COLLATE(id_type, 'utf8'), COLLATE(id_value, 'utf8')) AS node_id, id_type, id_value, first_seen_at, last_seen_at,
  source_count, CASE id_type WHEN 'user_id' THEN 0 WHEN 'email' THEN 1 WHEN 'crm_id' THEN 2 WHEN 'loyalty_card' THEN 3 WHEN 'phone' THEN 4 WHEN 'anonymous_id' THEN 5 ELSE 6 END AS type_rank, CASE WHEN id_type = 'email' AND (REGEXP_INSTR(id_value, '@example\\.(com|org|net)$') > 0) THEN 'excluded by email pattern @example\\.(com|org|net)$' WHEN id_type = 'email' AND (REGEXP_INSTR(id_value, '^(test|noreply|no-reply)@') > 0) THEN 'excluded by email pattern ^(test|noreply|no-reply)@' WHEN id_type = 'email' AND (REGEXP_INSTR(id_value, '^[^@]*$') > 0) THEN 'excluded by email pattern ^[^@]*$' WHEN id_type = 'phone' AND (REGEXP_INSTR(id_value, '^\\+?0+$') > 0) THEN 'excluded by phone pattern ^\\+?0+$' WHEN id_type = 'phone' AND (REGEXP_INSTR(id_value, '^\\+330+$') > 0) THEN 'excluded by phone pattern ^\\+330+$' END AS excluded_by
FROM (
  SELECT id_type, id_value, COALESCE(MIN(min_ts), CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS first_seen_at, MAX(max_ts) AS last_seen_at,
    COUNT(*) AS source_count
  FROM "CDP"."CUSTOMER__ID_SRCNODES"
  GROUP BY id_type, id_value
) g;
-- edges: identifiers sharing a row; tier = the weaker type's priority
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_EDGES" AS SELECT LEAST(na.node_id, nb.node_id) AS a, GREATEST(na.node_id, nb.node_id) AS b,
  GREATEST(na.type_rank, nb.type_rank) AS tier, MIN(p.ts) AS ts
FROM (
  SELECT 'email' AS ta, "_CDP_ID_0" AS va, 'phone' AS tb, "_CDP_ID_1" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_1" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_CDP_ID_0" AS va, 'loyalty_card' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_CDP_ID_0" AS va, 'crm_id' AS tb, "_CDP_ID_3" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_3" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS ta, "_CDP_ID_1" AS va, 'loyalty_card' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_1" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'phone' AS ta, "_CDP_ID_1" AS va, 'crm_id' AS tb, "_CDP_ID_3" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_1" IS NOT NULL AND "_CDP_ID_3" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_CDP_ID_2" AS va, 'crm_id' AS tb, "_CDP_ID_3" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" WHERE "_CDP_ID_2" IS NOT NULL AND "_CDP_ID_3" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_CDP_ID_0" AS va, 'email' AS tb, "_CDP_ID_1" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_1" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_CDP_ID_0" AS va, 'phone' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_CDP_ID_1" AS va, 'phone' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" WHERE "_CDP_ID_1" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'user_id' AS ta, "_CDP_ID_0" AS va, 'email' AS tb, "_CDP_ID_1" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_ORDERS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_CDP_ID_0" AS va, 'email' AS tb, "_CDP_ID_1" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_1" IS NOT NULL
  UNION ALL
  SELECT 'loyalty_card' AS ta, "_CDP_ID_0" AS va, 'phone' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'email' AS ta, "_CDP_ID_1" AS va, 'phone' AS tb, "_CDP_ID_2" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" WHERE "_CDP_ID_1" IS NOT NULL AND "_CDP_ID_2" IS NOT NULL
  UNION ALL
  SELECT 'anonymous_id' AS ta, "_CDP_ID_0" AS va, 'user_id' AS tb, "_CDP_ID_1" AS vb, "_CDP_TS" AS ts FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" WHERE "_CDP_ID_0" IS NOT NULL AND "_CDP_ID_1" IS NOT NULL
) p
JOIN "CDP"."CUSTOMER__ID_NODES" na ON na.id_type = p.ta AND na.id_value = p.va AND na.excluded_by IS NULL
JOIN "CDP"."CUSTOMER__ID_NODES" nb ON nb.id_type = p.tb AND nb.id_value = p.vb AND nb.excluded_by IS NULL
WHERE na.node_id <> nb.node_id
GROUP BY LEAST(na.node_id, nb.node_id), GREATEST(na.node_id, nb.node_id), GREATEST(na.type_rank, nb.type_rank);
-- labels: every kept node starts as its own component
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_LABELS" AS SELECT node_id, node_id AS label FROM "CDP"."CUSTOMER__ID_NODES" WHERE excluded_by IS NULL;
-- component edges (all)
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_ALL_EDGES" AS SELECT a, b FROM "CDP"."CUSTOMER__ID_EDGES";
-- repeat: connected components (all): repeat while edges remain
--   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_ALL_EDGES") > 0, at most 200 rounds
--   -- hook: each label points at its smallest neighbour
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_ALL_HOOK" AS SELECT x, LEAST(x, MIN(y)) AS p FROM (SELECT a AS x, b AS y FROM "CDP"."CUSTOMER__ID_ALL_EDGES" UNION ALL SELECT b AS x, a AS y FROM "CDP"."CUSTOMER__ID_ALL_EDGES") n GROUP BY x;
--   -- repeat: pointer jumping: every label points at its root
--   --   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_ALL_HOOK" h JOIN "CDP"."CUSTOMER__ID_ALL_HOOK" h2 ON h2.x = h.p WHERE h2.p <> h.p) > 0, at most 64 rounds
--   --   -- jump
UPDATE "CDP"."CUSTOMER__ID_ALL_HOOK" AS h SET p = h2.p FROM "CDP"."CUSTOMER__ID_ALL_HOOK" AS h2 WHERE h2.x = h.p AND h2.p <> h.p;
--   -- end repeat
--   -- relabel
UPDATE "CDP"."CUSTOMER__ID_LABELS" AS l SET label = h.p FROM "CDP"."CUSTOMER__ID_ALL_HOOK" AS h WHERE h.x = l.label AND h.p <> l.label;
--   -- contract: edges between distinct roots
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_ALL_NEXT" AS SELECT DISTINCT LEAST(ha.p, hb.p) AS a, GREATEST(ha.p, hb.p) AS b
FROM "CDP"."CUSTOMER__ID_ALL_EDGES" e JOIN "CDP"."CUSTOMER__ID_ALL_HOOK" ha ON ha.x = e.a JOIN "CDP"."CUSTOMER__ID_ALL_HOOK" hb ON hb.x = e.b
WHERE ha.p <> hb.p;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_ALL_EDGES" AS SELECT a, b FROM "CDP"."CUSTOMER__ID_ALL_NEXT";
-- end repeat
-- components that break a limit
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_VIOL" AS SELECT l.label FROM "CDP"."CUSTOMER__ID_LABELS" l JOIN "CDP"."CUSTOMER__ID_NODES" n ON n.node_id = l.node_id GROUP BY l.label HAVING (COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) > 1 OR COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) > 3);
-- their nodes, each its own cluster to start
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_VN" AS SELECT l.node_id, l.node_id AS cluster FROM "CDP"."CUSTOMER__ID_LABELS" l WHERE l.label IN (SELECT label FROM "CDP"."CUSTOMER__ID_VIOL");
-- their links in priority order: tier, earliest timestamp, then value
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_PEND" AS SELECT e.a, e.b, e.tier, ROW_NUMBER() OVER (ORDER BY e.tier, (e.ts IS NULL), e.ts, e.a, e.b) AS ord FROM "CDP"."CUSTOMER__ID_EDGES" e JOIN "CDP"."CUSTOMER__ID_VN" v ON v.node_id = e.a;
-- links dropped by a limit
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_REJ" AS SELECT a, b, ord, CAST(NULL AS VARCHAR) AS reason FROM "CDP"."CUSTOMER__ID_PEND" WHERE 1 = 0;
-- the tier being resolved
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_CUR" AS SELECT MIN(tier) AS tier FROM "CDP"."CUSTOMER__ID_PEND";
-- repeat: limits: rebuild breaking components tier by tier, strongest first
--   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_PEND") > 0, at most 7 rounds
--   -- clusters joined by this tier's links
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_PAIRS" AS SELECT DISTINCT LEAST(ca.cluster, cb.cluster) AS a, GREATEST(ca.cluster, cb.cluster) AS b
FROM "CDP"."CUSTOMER__ID_PEND" e JOIN "CDP"."CUSTOMER__ID_VN" ca ON ca.node_id = e.a JOIN "CDP"."CUSTOMER__ID_VN" cb ON cb.node_id = e.b
WHERE e.tier = (SELECT tier FROM "CDP"."CUSTOMER__ID_CUR") AND ca.cluster <> cb.cluster;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_LABELS" AS SELECT DISTINCT x AS node_id, x AS label FROM (SELECT a AS x FROM "CDP"."CUSTOMER__ID_TIER_PAIRS" UNION ALL SELECT b AS x FROM "CDP"."CUSTOMER__ID_TIER_PAIRS") u;
--   -- component edges (tier)
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_EDGES" AS SELECT a, b FROM "CDP"."CUSTOMER__ID_TIER_PAIRS";
--   -- repeat: connected components (tier): repeat while edges remain
--   --   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_TIER_EDGES") > 0, at most 200 rounds
--   --   -- hook: each label points at its smallest neighbour
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_HOOK" AS SELECT x, LEAST(x, MIN(y)) AS p FROM (SELECT a AS x, b AS y FROM "CDP"."CUSTOMER__ID_TIER_EDGES" UNION ALL SELECT b AS x, a AS y FROM "CDP"."CUSTOMER__ID_TIER_EDGES") n GROUP BY x;
--   --   -- repeat: pointer jumping: every label points at its root
--   --   --   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_TIER_HOOK" h JOIN "CDP"."CUSTOMER__ID_TIER_HOOK" h2 ON h2.x = h.p WHERE h2.p <> h.p) > 0, at most 64 rounds
--   --   --   -- jump
UPDATE "CDP"."CUSTOMER__ID_TIER_HOOK" AS h SET p = h2.p FROM "CDP"."CUSTOMER__ID_TIER_HOOK" AS h2 WHERE h2.x = h.p AND h2.p <> h.p;
--   --   -- end repeat
--   --   -- relabel
UPDATE "CDP"."CUSTOMER__ID_TIER_LABELS" AS l SET label = h.p FROM "CDP"."CUSTOMER__ID_TIER_HOOK" AS h WHERE h.x = l.label AND h.p <> l.label;
--   --   -- contract: edges between distinct roots
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_NEXT" AS SELECT DISTINCT LEAST(ha.p, hb.p) AS a, GREATEST(ha.p, hb.p) AS b
FROM "CDP"."CUSTOMER__ID_TIER_EDGES" e JOIN "CDP"."CUSTOMER__ID_TIER_HOOK" ha ON ha.x = e.a JOIN "CDP"."CUSTOMER__ID_TIER_HOOK" hb ON hb.x = e.b
WHERE ha.p <> hb.p;
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_EDGES" AS SELECT a, b FROM "CDP"."CUSTOMER__ID_TIER_NEXT";
--   -- end repeat
--   -- groups of clusters whose union breaks a limit
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_TIER_OVER" AS SELECT t.label FROM "CDP"."CUSTOMER__ID_TIER_LABELS" t JOIN "CDP"."CUSTOMER__ID_VN" v ON v.cluster = t.node_id JOIN "CDP"."CUSTOMER__ID_NODES" n ON n.node_id = v.node_id GROUP BY t.label HAVING (COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) > 1 OR COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) > 3);
--   -- merge the groups that fit every limit
UPDATE "CDP"."CUSTOMER__ID_VN" AS v SET cluster = t.label FROM "CDP"."CUSTOMER__ID_TIER_LABELS" AS t WHERE t.node_id = v.cluster AND t.label <> v.cluster AND t.label NOT IN (SELECT label FROM "CDP"."CUSTOMER__ID_TIER_OVER");
--   -- repeat: resolve the tier's remaining links in priority order
--   --   while (SELECT COUNT(*) FROM "CDP"."CUSTOMER__ID_PEND" WHERE tier = (SELECT tier FROM "CDP"."CUSTOMER__ID_CUR")) > 0, at most 100000 rounds
--   --   -- pending links of the tier with their clusters
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_EC" AS SELECT e.ord, e.a, e.b, ca.cluster AS ca, cb.cluster AS cb
FROM "CDP"."CUSTOMER__ID_PEND" e JOIN "CDP"."CUSTOMER__ID_VN" ca ON ca.node_id = e.a JOIN "CDP"."CUSTOMER__ID_VN" cb ON cb.node_id = e.b
WHERE e.tier = (SELECT tier FROM "CDP"."CUSTOMER__ID_CUR");
--   --   -- links inside one cluster are settled
DELETE FROM "CDP"."CUSTOMER__ID_PEND" WHERE ord IN (SELECT ord FROM "CDP"."CUSTOMER__ID_EC" WHERE ca = cb);
--   --   -- limited identifiers per cluster
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_CNT" AS SELECT v.cluster, COUNT(CASE WHEN n.id_type = 'user_id' THEN 1 END) AS lim_0, COUNT(CASE WHEN n.id_type = 'phone' THEN 1 END) AS lim_1 FROM "CDP"."CUSTOMER__ID_VN" v JOIN "CDP"."CUSTOMER__ID_NODES" n ON n.node_id = v.node_id WHERE v.cluster IN (SELECT ca FROM "CDP"."CUSTOMER__ID_EC" UNION ALL SELECT cb FROM "CDP"."CUSTOMER__ID_EC") GROUP BY v.cluster;
--   --   -- reject links whose clusters together break a limit (clusters only grow: final)
INSERT INTO "CDP"."CUSTOMER__ID_REJ" (a, b, ord, reason)
SELECT ec.a, ec.b, ec.ord, CASE WHEN x.lim_0 + y.lim_0 > 1 THEN 'limit: more than 1 user_id' WHEN x.lim_1 + y.lim_1 > 3 THEN 'limit: more than 3 phone' END
FROM "CDP"."CUSTOMER__ID_EC" ec JOIN "CDP"."CUSTOMER__ID_CNT" x ON x.cluster = ec.ca JOIN "CDP"."CUSTOMER__ID_CNT" y ON y.cluster = ec.cb
WHERE ec.ca <> ec.cb AND (x.lim_0 + y.lim_0 > 1 OR x.lim_1 + y.lim_1 > 3);
DELETE FROM "CDP"."CUSTOMER__ID_PEND" WHERE ord IN (SELECT ord FROM "CDP"."CUSTOMER__ID_REJ");
--   --   -- accept links that are the earliest pending link at both of their clusters
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_LM" AS WITH r AS (
  SELECT ec.ord, ec.ca, ec.cb FROM "CDP"."CUSTOMER__ID_EC" ec WHERE ec.ca <> ec.cb AND ec.ord NOT IN (SELECT ord FROM "CDP"."CUSTOMER__ID_REJ")
), mo AS (
  SELECT c, MIN(ord) AS m FROM (SELECT ca AS c, ord FROM r UNION ALL SELECT cb AS c, ord FROM r) u GROUP BY c
)
SELECT r.ord, r.ca, r.cb FROM r
JOIN mo ma ON ma.c = r.ca AND ma.m = r.ord
JOIN mo mb ON mb.c = r.cb AND mb.m = r.ord;
--   --   -- merge the accepted links' clusters
UPDATE "CDP"."CUSTOMER__ID_VN" AS v SET cluster = m.dst FROM (SELECT ca AS c, LEAST(ca, cb) AS dst FROM "CDP"."CUSTOMER__ID_LM" UNION ALL SELECT cb AS c, LEAST(ca, cb) AS dst FROM "CDP"."CUSTOMER__ID_LM") AS m WHERE m.c = v.cluster AND m.dst <> v.cluster;
DELETE FROM "CDP"."CUSTOMER__ID_PEND" WHERE ord IN (SELECT ord FROM "CDP"."CUSTOMER__ID_LM");
--   -- end repeat
--   -- next tier
UPDATE "CDP"."CUSTOMER__ID_CUR" SET tier = (SELECT MIN(tier) FROM "CDP"."CUSTOMER__ID_PEND") WHERE TRUE;
-- end repeat
-- components after the limit rules
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_COMP" AS SELECT l.node_id, COALESCE(v.cluster, l.label) AS label FROM "CDP"."CUSTOMER__ID_LABELS" l LEFT JOIN "CDP"."CUSTOMER__ID_VN" v ON v.node_id = l.node_id;
-- previous identifiers (empty on the first run)
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_IDENTIFIERS" ("ID_TYPE" VARCHAR, "ID_VALUE" VARCHAR, "PROFILE_ID" VARCHAR, "FIRST_SEEN_AT" TIMESTAMP_NTZ, "LAST_SEEN_AT" TIMESTAMP_NTZ, "SOURCE_COUNT" BIGINT);
-- members with their previous profile
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_MEMBERS" AS SELECT c.label, n.id_type, n.id_value, CASE WHEN o.first_seen_at IS NULL THEN n.first_seen_at WHEN n.first_seen_at IS NULL THEN o.first_seen_at WHEN o.first_seen_at < n.first_seen_at THEN o.first_seen_at ELSE n.first_seen_at END AS first_seen_at, n.last_seen_at, n.source_count,
  o.profile_id AS prev_profile_id
FROM "CDP"."CUSTOMER__ID_COMP" c JOIN "CDP"."CUSTOMER__ID_NODES" n ON n.node_id = c.node_id
LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" o ON o.id_type = n.id_type AND o.id_value = n.id_value;
-- age of every previous profile of these identifiers
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_AGES" AS SELECT profile_id, MIN(first_seen_at) AS age FROM "CDP"."CUSTOMER_IDENTIFIERS" WHERE profile_id IN (SELECT prev_profile_id FROM "CDP"."CUSTOMER__ID_MEMBERS") GROUP BY profile_id;
-- each previous profile is claimed by the component of its oldest surviving identifier
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_CLAIMS" AS SELECT profile_id, label FROM (
  SELECT m.prev_profile_id AS profile_id, m.label,
    ROW_NUMBER() OVER (PARTITION BY m.prev_profile_id ORDER BY m.first_seen_at, COLLATE(m.id_type, 'utf8'), COLLATE(m.id_value, 'utf8')) AS rn
  FROM "CDP"."CUSTOMER__ID_MEMBERS" m WHERE m.prev_profile_id IS NOT NULL
) x WHERE rn = 1;
-- a component keeps its oldest claimed profile
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_CHOSEN" AS SELECT label, profile_id FROM (
  SELECT c.label, c.profile_id,
    ROW_NUMBER() OVER (PARTITION BY c.label ORDER BY (a.age IS NULL), a.age, COLLATE(c.profile_id, 'utf8')) AS rn
  FROM "CDP"."CUSTOMER__ID_CLAIMS" c JOIN "CDP"."CUSTOMER__ID_AGES" a ON a.profile_id = c.profile_id
) x WHERE rn = 1;
-- the oldest identifier of each component
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_OLDEST" AS SELECT label, id_type, id_value, n FROM (
  SELECT label, id_type, id_value, COUNT(*) OVER (PARTITION BY label) AS n,
    ROW_NUMBER() OVER (PARTITION BY label ORDER BY first_seen_at, COLLATE(id_type, 'utf8'), COLLATE(id_value, 'utf8')) AS rn
  FROM "CDP"."CUSTOMER__ID_MEMBERS"
) x WHERE rn = 1;
-- profile ID of every component
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__ID_PIDS" AS SELECT o.label, COALESCE(ch.profile_id,
  CASE WHEN SUBSTR(MD5(o.id_type || ':' || o.id_value), 1, 16) IN (SELECT profile_id FROM "CDP"."CUSTOMER_IDENTIFIERS") THEN SUBSTR(MD5(o.id_type || ':' || o.id_value || ':' || 'compile'), 1, 16) ELSE SUBSTR(MD5(o.id_type || ':' || o.id_value), 1, 16) END) AS profile_id
FROM "CDP"."CUSTOMER__ID_OLDEST" o LEFT JOIN "CDP"."CUSTOMER__ID_CHOSEN" ch ON ch.label = o.label;
-- identifiers: one row per normalized identifier (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_IDENTIFIERS" COPY GRANTS AS SELECT m.id_type, m.id_value, p.profile_id, m.first_seen_at, m.last_seen_at, m.source_count
FROM "CDP"."CUSTOMER__ID_MEMBERS" m JOIN "CDP"."CUSTOMER__ID_PIDS" p ON p.label = m.label;
COMMIT;
-- audit: excluded and invalid values, links dropped by limits, oversized profiles (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_IDENTITY_AUDIT" COPY GRANTS AS SELECT 'compile' AS run_id, 'excluded' AS kind, id_type AS id_type_a, id_value AS id_value_a,
  CAST(NULL AS VARCHAR) AS id_type_b, CAST(NULL AS VARCHAR) AS id_value_b, excluded_by AS reason
FROM "CDP"."CUSTOMER__ID_NODES" WHERE excluded_by IS NOT NULL
UNION ALL
SELECT 'compile', 'invalid', i.id_type, i.id_value, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), i.reason
FROM "CDP"."CUSTOMER__ID_INVALID" i
UNION ALL
SELECT 'compile', 'limit', na.id_type, na.id_value, nb.id_type, nb.id_value, r.reason
FROM "CDP"."CUSTOMER__ID_REJ" r JOIN "CDP"."CUSTOMER__ID_NODES" na ON na.node_id = r.a JOIN "CDP"."CUSTOMER__ID_NODES" nb ON nb.node_id = r.b
UNION ALL
SELECT 'compile', 'oversized', o.id_type, o.id_value, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
  'profile has ' || CAST(o.n AS VARCHAR) || ' identifiers, above max_profile_identifiers 200'
FROM "CDP"."CUSTOMER__ID_OLDEST" o WHERE o.n > 200;
COMMIT;
-- state: every identifier with its raw component (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_IDENTITY_NODES" COPY GRANTS AS SELECT n.node_id, n.id_type, n.id_value, n.type_rank, n.excluded_by, l.label
FROM "CDP"."CUSTOMER__ID_NODES" n LEFT JOIN "CDP"."CUSTOMER__ID_LABELS" l ON l.node_id = n.node_id;
COMMIT;
-- state: earliest and latest row per identifier and source (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_IDENTITY_NODE_SOURCES" COPY GRANTS AS SELECT n.node_id, s.source, s.min_ts, s.max_ts
FROM "CDP"."CUSTOMER__ID_SRCNODES" s JOIN "CDP"."CUSTOMER__ID_NODES" n ON n.id_type = s.id_type AND n.id_value = s.id_value AND n.excluded_by IS NULL;
COMMIT;
-- state: every link (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_IDENTITY_EDGES" COPY GRANTS AS SELECT a, b, tier, ts FROM "CDP"."CUSTOMER__ID_EDGES";
COMMIT;
-- drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_OCC";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_SRCNODES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_INVALID";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_NODES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_EDGES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_LABELS";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_ALL_EDGES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_ALL_HOOK";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_ALL_NEXT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_VIOL";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_VN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_PEND";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_REJ";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_CUR";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_PAIRS";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_LABELS";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_OVER";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_EC";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_CNT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_LM";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_EDGES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_HOOK";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_TIER_NEXT";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_COMP";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_MEMBERS";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_AGES";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_CLAIMS";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_CHOSEN";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_OLDEST";
DROP TABLE IF EXISTS "CDP"."CUSTOMER__ID_PIDS";

-- node: profiles.customer (models/traits.yml:11)
-- build customer_profiles (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_PROFILES" COPY GRANTS AS WITH
-- rows of source shop_customers with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."PROFILE_ID", i1."PROFILE_ID", i2."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'user_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'email' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i2
    ON i2."ID_TYPE" = 'phone' AND i2."ID_VALUE" = v."_CDP_ID_2"
  WHERE COALESCE(i0."PROFILE_ID", i1."PROFILE_ID", i2."PROFILE_ID") IS NOT NULL
),
-- rows of source crm_contacts with their profile
s2 AS (
  SELECT v.*, COALESCE(i0."PROFILE_ID", i3."PROFILE_ID", i2."PROFILE_ID", i1."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'email' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i3
    ON i3."ID_TYPE" = 'crm_id' AND i3."ID_VALUE" = v."_CDP_ID_3"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i2
    ON i2."ID_TYPE" = 'loyalty_card' AND i2."ID_VALUE" = v."_CDP_ID_2"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'phone' AND i1."ID_VALUE" = v."_CDP_ID_1"
  WHERE COALESCE(i0."PROFILE_ID", i3."PROFILE_ID", i2."PROFILE_ID", i1."PROFILE_ID") IS NOT NULL
),
-- rows of source pos_transactions with their profile
s3 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID", i2."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'email' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'loyalty_card' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i2
    ON i2."ID_TYPE" = 'phone' AND i2."ID_VALUE" = v."_CDP_ID_2"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID", i2."PROFILE_ID") IS NOT NULL
),
-- rows of source web_events with their profile
s4 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- rows of source orders with their profile
s5 AS (
  SELECT v.*, COALESCE(i0."PROFILE_ID", i1."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_ORDERS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'user_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'email' AND i1."ID_VALUE" = v."_CDP_ID_1"
  WHERE COALESCE(i0."PROFILE_ID", i1."PROFILE_ID") IS NOT NULL
),
-- trait email: latest of shop_customers.email (source priority 1)
t1_1 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "EMAIL" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("EMAIL" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s1
    WHERE "EMAIL" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait email: latest of crm_contacts.email (source priority 2)
t1_2 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "EMAIL" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("EMAIL" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s2
    WHERE "EMAIL" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait first_name: latest of crm_contacts.first_name (source priority 1)
t2_1 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "FIRST_NAME" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("FIRST_NAME" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s2
    WHERE "FIRST_NAME" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait first_name: latest of shop_customers.first_name (source priority 2)
t2_2 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "FIRST_NAME" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("FIRST_NAME" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s1
    WHERE "FIRST_NAME" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait last_name: most_frequent of crm_contacts.last_name
t3 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY "_CDP_N" DESC, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, COLLATE(CAST("_CDP_VALUE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "LAST_NAME" AS "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM s2
      WHERE "LAST_NAME" IS NOT NULL
      GROUP BY "_CDP_PROFILE_ID", "LAST_NAME"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait phone: latest of crm_contacts.phone (source priority 1)
t4_1 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "PHONE" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("PHONE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s2
    WHERE "PHONE" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait phone: latest of shop_customers.phone (source priority 2)
t4_2 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "PHONE" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("PHONE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s1
    WHERE "PHONE" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait phone: latest of pos_transactions.phone (source priority 3)
t4_3 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "PHONE" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("PHONE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s3
    WHERE "PHONE" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait country: most_frequent of crm_contacts.country
t5 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY "_CDP_N" DESC, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, COLLATE(CAST("_CDP_VALUE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "COUNTRY" AS "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM s2
      WHERE "COUNTRY" IS NOT NULL
      GROUP BY "_CDP_PROFILE_ID", "COUNTRY"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait email_opt_in: latest of crm_contacts.email_opt_in
t6 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "EMAIL_OPT_IN" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" DESC, COLLATE(CAST("EMAIL_OPT_IN" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s2
    WHERE "EMAIL_OPT_IN" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait loyalty_card: any of crm_contacts.loyalty_card (source priority 1)
t7_1 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "LOYALTY_CARD" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY COLLATE(CAST("LOYALTY_CARD" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s2
    WHERE "LOYALTY_CARD" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait loyalty_card: any of pos_transactions.loyalty_card (source priority 2)
t7_2 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "LOYALTY_CARD" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY COLLATE(CAST("LOYALTY_CARD" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s3
    WHERE "LOYALTY_CARD" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait crm_created_at: min of crm_contacts.created_at
t8 AS (
  SELECT "_CDP_PROFILE_ID", MIN("CREATED_AT") AS "_CDP_VALUE"
  FROM s2
  WHERE "CREATED_AT" IS NOT NULL
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait customer_since: earliest of shop_customers.signup_at
t9 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "SIGNUP_AT" AS "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_TS" IS NULL), "_CDP_TS" ASC, COLLATE(CAST("SIGNUP_AT" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM s1
    WHERE "SIGNUP_AT" IS NOT NULL
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait last_seen_at: max of web_events.occurred_at
t10 AS (
  SELECT "_CDP_PROFILE_ID", MAX("OCCURRED_AT") AS "_CDP_VALUE"
  FROM s4
  WHERE "OCCURRED_AT" IS NOT NULL
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait first_order_at: min of orders.ordered_at
t11 AS (
  SELECT "_CDP_PROFILE_ID", MIN("ORDERED_AT") AS "_CDP_VALUE"
  FROM s5
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait last_order_at: max of orders.ordered_at
t12 AS (
  SELECT "_CDP_PROFILE_ID", MAX("ORDERED_AT") AS "_CDP_VALUE"
  FROM s5
  WHERE (status <> 'cancelled')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait lifetime_value: sum of orders.amount_eur
t13 AS (
  SELECT "_CDP_PROFILE_ID", SUM("AMOUNT_EUR") AS "_CDP_VALUE"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait orders_count: count of orders
t14 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait orders_90d: count of orders within 90d
t15 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s5
  WHERE "_CDP_TS" >= DATEADD(hour, -2160, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND (status = 'paid')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait avg_order_value: avg of orders.amount_eur
t16 AS (
  SELECT "_CDP_PROFILE_ID", AVG("AMOUNT_EUR") AS "_CDP_VALUE"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait largest_order: max of orders.amount_eur
t17 AS (
  SELECT "_CDP_PROFILE_ID", MAX("AMOUNT_EUR") AS "_CDP_VALUE"
  FROM s5
  WHERE (status = 'paid')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait refunds_count: count of orders
t18 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s5
  WHERE (status = 'refunded')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait checkout_emails: count_distinct of orders.email
t19 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(DISTINCT "EMAIL") AS "_CDP_VALUE"
  FROM s5
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait store_spend: sum of pos_transactions.amount
t20 AS (
  SELECT "_CDP_PROFILE_ID", SUM("AMOUNT") AS "_CDP_VALUE"
  FROM s3
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait store_visits_12m: count of pos_transactions within 52w
t21 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s3
  WHERE "_CDP_TS" >= DATEADD(hour, -8736, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait stores_visited: count_distinct of pos_transactions.store_id
t22 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(DISTINCT "STORE_ID") AS "_CDP_VALUE"
  FROM s3
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait favorite_store: most_frequent of pos_transactions.store_id
t23 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY "_CDP_N" DESC, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, COLLATE(CAST("_CDP_VALUE" AS VARCHAR), 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "STORE_ID" AS "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM s3
      WHERE "STORE_ID" IS NOT NULL
      GROUP BY "_CDP_PROFILE_ID", "STORE_ID"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait smallest_store_basket: min of pos_transactions.amount
t24 AS (
  SELECT "_CDP_PROFILE_ID", MIN("AMOUNT") AS "_CDP_VALUE"
  FROM s3
  WHERE (amount > 0)
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait devices: count_distinct of web_events.anonymous_id
t25 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(DISTINCT "ANONYMOUS_ID") AS "_CDP_VALUE"
  FROM s4
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait product_views_14d: count of web_events within 14d
t26 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s4
  WHERE "_CDP_TS" >= DATEADD(hour, -336, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND (event_name = 'product_viewed')
  GROUP BY "_CDP_PROFILE_ID"
),
-- trait web_events_48h: count of web_events within 48h
t27 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_VALUE"
  FROM s4
  WHERE "_CDP_TS" >= DATEADD(hour, -48, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- every profile with its source-based traits
base AS (
  SELECT
    p."PROFILE_ID",
    COALESCE(t1_1."_CDP_VALUE", t1_2."_CDP_VALUE") AS "EMAIL",
    COALESCE(t2_1."_CDP_VALUE", t2_2."_CDP_VALUE") AS "FIRST_NAME",
    t3."_CDP_VALUE" AS "LAST_NAME",
    COALESCE(t4_1."_CDP_VALUE", t4_2."_CDP_VALUE", t4_3."_CDP_VALUE") AS "PHONE",
    t5."_CDP_VALUE" AS "COUNTRY",
    CAST(t6."_CDP_VALUE" AS BOOLEAN) AS "EMAIL_OPT_IN",
    COALESCE(t7_1."_CDP_VALUE", t7_2."_CDP_VALUE") AS "LOYALTY_CARD",
    t8."_CDP_VALUE" AS "CRM_CREATED_AT",
    CAST(t9."_CDP_VALUE" AS TIMESTAMP_NTZ) AS "CUSTOMER_SINCE",
    t10."_CDP_VALUE" AS "LAST_SEEN_AT",
    t11."_CDP_VALUE" AS "FIRST_ORDER_AT",
    t12."_CDP_VALUE" AS "LAST_ORDER_AT",
    t13."_CDP_VALUE" AS "LIFETIME_VALUE",
    COALESCE(t14."_CDP_VALUE", 0) AS "ORDERS_COUNT",
    COALESCE(t15."_CDP_VALUE", 0) AS "ORDERS_90D",
    t16."_CDP_VALUE" AS "AVG_ORDER_VALUE",
    t17."_CDP_VALUE" AS "LARGEST_ORDER",
    COALESCE(t18."_CDP_VALUE", 0) AS "REFUNDS_COUNT",
    COALESCE(t19."_CDP_VALUE", 0) AS "CHECKOUT_EMAILS",
    t20."_CDP_VALUE" AS "STORE_SPEND",
    COALESCE(t21."_CDP_VALUE", 0) AS "STORE_VISITS_12M",
    COALESCE(t22."_CDP_VALUE", 0) AS "STORES_VISITED",
    t23."_CDP_VALUE" AS "FAVORITE_STORE",
    t24."_CDP_VALUE" AS "SMALLEST_STORE_BASKET",
    COALESCE(t25."_CDP_VALUE", 0) AS "DEVICES",
    COALESCE(t26."_CDP_VALUE", 0) AS "PRODUCT_VIEWS_14D",
    COALESCE(t27."_CDP_VALUE", 0) AS "WEB_EVENTS_48H"
  FROM (
    SELECT DISTINCT "PROFILE_ID"
    FROM "CDP"."CUSTOMER_IDENTIFIERS"
  ) AS p
  LEFT JOIN t1_1 ON t1_1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t1_2 ON t1_2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t2_1 ON t2_1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t2_2 ON t2_2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t3 ON t3."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t4_1 ON t4_1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t4_2 ON t4_2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t4_3 ON t4_3."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t5 ON t5."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t6 ON t6."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t7_1 ON t7_1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t7_2 ON t7_2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t8 ON t8."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t9 ON t9."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t10 ON t10."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t11 ON t11."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t12 ON t12."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t13 ON t13."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t14 ON t14."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t15 ON t15."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t16 ON t16."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t17 ON t17."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t18 ON t18."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t19 ON t19."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t20 ON t20."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t21 ON t21."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t22 ON t22."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t23 ON t23."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t24 ON t24."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t25 ON t25."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t26 ON t26."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t27 ON t27."_CDP_PROFILE_ID" = p."PROFILE_ID"
),
-- expression traits, layer 1
x1 AS (
  SELECT
    *,
    CAST((COALESCE(lifetime_value, 0) >= 1000 OR COALESCE(orders_count, 0) >= 10) AS BOOLEAN) AS "IS_VIP",
    CAST((CASE
  WHEN COALESCE(lifetime_value, 0) >= 1000 THEN 'gold'
  WHEN COALESCE(lifetime_value, 0) >= 300 THEN 'silver'
  WHEN COALESCE(lifetime_value, 0) > 0 THEN 'bronze'
  ELSE 'none'
END) AS VARCHAR) AS "LTV_TIER",
    CAST((COALESCE(lifetime_value, 0) + COALESCE(store_spend, 0)) AS DOUBLE) AS "TOTAL_SPEND",
    CAST((TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))) AS VARCHAR) AS "DISPLAY_NAME"
  FROM base
)
SELECT
  "PROFILE_ID",
  "EMAIL",
  "FIRST_NAME",
  "LAST_NAME",
  "PHONE",
  "COUNTRY",
  "EMAIL_OPT_IN",
  "LOYALTY_CARD",
  "CRM_CREATED_AT",
  "CUSTOMER_SINCE",
  "LAST_SEEN_AT",
  "FIRST_ORDER_AT",
  "LAST_ORDER_AT",
  "LIFETIME_VALUE",
  "ORDERS_COUNT",
  "ORDERS_90D",
  "AVG_ORDER_VALUE",
  "LARGEST_ORDER",
  "REFUNDS_COUNT",
  "CHECKOUT_EMAILS",
  "STORE_SPEND",
  "STORE_VISITS_12M",
  "STORES_VISITED",
  "FAVORITE_STORE",
  "SMALLEST_STORE_BASKET",
  "DEVICES",
  "PRODUCT_VIEWS_14D",
  "WEB_EVENTS_48H",
  "IS_VIP",
  "LTV_TIER",
  "TOTAL_SPEND",
  "DISPLAY_NAME",
  CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ) AS "UPDATED_AT"
FROM x1;
COMMIT;

-- node: segment.frequent_refunders (models/segments.yml:7)
-- segment frequent_refunders: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment frequent_refunders: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_FREQUENT_REFUNDERS" AS WITH
-- profiles matching segment frequent_refunders
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (p."REFUNDS_COUNT" IS NOT NULL AND p."REFUNDS_COUNT" >= 2)
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'frequent_refunders'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment frequent_refunders: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'frequent_refunders';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'frequent_refunders', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_FREQUENT_REFUNDERS";
COMMIT;
-- segment frequent_refunders: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_FREQUENT_REFUNDERS";

-- node: segment.vip_customers (models/segments.yml:13)
-- segment vip_customers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment vip_customers: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_VIP_CUSTOMERS" AS WITH
-- profiles matching segment vip_customers
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (
    (p."IS_VIP" IS NOT NULL AND p."IS_VIP" = TRUE)
    AND p."EMAIL" IS NOT NULL
    AND NOT (p."PROFILE_ID" IN (SELECT "PROFILE_ID" FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'frequent_refunders'))
    AND (
      (p."EMAIL_OPT_IN" IS NOT NULL AND p."EMAIL_OPT_IN" = TRUE)
      OR (p."LAST_SEEN_AT" IS NOT NULL AND p."LAST_SEEN_AT" >= DATEADD(hour, -720, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AND p."LAST_SEEN_AT" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
      OR (p."STORE_VISITS_12M" IS NOT NULL AND p."STORE_VISITS_12M" >= 3)
    )
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'vip_customers'
)
SELECT
  m."PROFILE_ID",
  (CAST(TO_NUMBER(SUBSTR(MD5(m."PROFILE_ID" || ':vip_customers'), 1, 8), 'xxxxxxxx') AS DOUBLE) / CAST(4294967296 AS DOUBLE)) < 0.1 AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment vip_customers: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'vip_customers';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'vip_customers', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_VIP_CUSTOMERS";
COMMIT;
-- segment vip_customers: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_VIP_CUSTOMERS";

-- node: segment.cart_abandoners (models/segments.yml:26)
-- segment cart_abandoners: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment cart_abandoners: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_CART_ABANDONERS" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- event added_to_cart in web_events within 7d
ev1 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'added_to_cart'
    AND "_CDP_TS" >= DATEADD(hour, -168, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- event order_completed in web_events within 7d
ev2 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'order_completed'
    AND "_CDP_TS" >= DATEADD(hour, -168, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- profiles matching segment cart_abandoners
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  LEFT JOIN ev1 ON ev1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN ev2 ON ev2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  WHERE (
    COALESCE(ev1."_CDP_N", 0) >= 1
    AND COALESCE(ev2."_CDP_N", 0) = 0
    AND p."EMAIL" IS NOT NULL
    AND (p."EMAIL_OPT_IN" IS NOT NULL AND p."EMAIL_OPT_IN" = TRUE)
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'cart_abandoners'
)
SELECT
  m."PROFILE_ID",
  (CAST(TO_NUMBER(SUBSTR(MD5(m."PROFILE_ID" || ':cart_abandoners'), 1, 8), 'xxxxxxxx') AS DOUBLE) / CAST(4294967296 AS DOUBLE)) < 0.1 AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment cart_abandoners: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'cart_abandoners';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'cart_abandoners', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_CART_ABANDONERS";
COMMIT;
-- segment cart_abandoners: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_CART_ABANDONERS";

-- node: segment.high_value_eu (models/segments.yml:41)
-- segment high_value_eu: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment high_value_eu: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_HIGH_VALUE_EU" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- event order_completed in web_events within 90d
ev1 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'order_completed'
    AND "_CDP_TS" >= DATEADD(hour, -2160, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
    AND (properties_total >= 150)
  GROUP BY "_CDP_PROFILE_ID"
),
-- profiles matching segment high_value_eu
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  LEFT JOIN ev1 ON ev1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  WHERE (
    COALESCE(ev1."_CDP_N", 0) >= 1
    AND (p."LIFETIME_VALUE" IS NOT NULL AND p."LIFETIME_VALUE" > 500)
    AND (p."COUNTRY" IS NOT NULL AND p."COUNTRY" IN ('FR', 'DE', 'NL', 'ES', 'IT'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'high_value_eu'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment high_value_eu: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'high_value_eu';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'high_value_eu', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_HIGH_VALUE_EU";
COMMIT;
-- segment high_value_eu: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_HIGH_VALUE_EU";

-- node: segment.mid_value_regulars (models/segments.yml:52)
-- segment mid_value_regulars: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment mid_value_regulars: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_MID_VALUE_REGULARS" AS WITH
-- profiles matching segment mid_value_regulars
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (
    (p."LIFETIME_VALUE" IS NOT NULL AND p."LIFETIME_VALUE" BETWEEN 300 AND 1000)
    AND (p."LTV_TIER" IS NULL OR p."LTV_TIER" <> 'gold')
    AND (p."AVG_ORDER_VALUE" IS NOT NULL AND p."AVG_ORDER_VALUE" < 150)
    AND (p."ORDERS_90D" IS NOT NULL AND p."ORDERS_90D" > 0)
    AND NOT (p."PROFILE_ID" IN (SELECT "PROFILE_ID" FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'vip_customers'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'mid_value_regulars'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment mid_value_regulars: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'mid_value_regulars';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'mid_value_regulars', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_MID_VALUE_REGULARS";
COMMIT;
-- segment mid_value_regulars: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_MID_VALUE_REGULARS";

-- node: segment.lapsed_buyers (models/segments.yml:62)
-- segment lapsed_buyers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment lapsed_buyers: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_LAPSED_BUYERS" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- event order_completed in web_events within 26w
ev1 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'order_completed'
    AND "_CDP_TS" >= DATEADD(hour, -4368, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- profiles matching segment lapsed_buyers
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  LEFT JOIN ev1 ON ev1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  WHERE (
    (p."ORDERS_COUNT" IS NOT NULL AND p."ORDERS_COUNT" >= 2)
    AND (p."LAST_ORDER_AT" IS NOT NULL AND p."LAST_ORDER_AT" < CAST('2026-05-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND COALESCE(ev1."_CDP_N", 0) = 0
    AND NOT ((p."LAST_SEEN_AT" IS NOT NULL AND p."LAST_SEEN_AT" >= DATEADD(hour, -720, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AND p."LAST_SEEN_AT" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)))
    AND NOT (p."PROFILE_ID" IN (SELECT "PROFILE_ID" FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'frequent_refunders'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'lapsed_buyers'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment lapsed_buyers: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'lapsed_buyers';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'lapsed_buyers', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_LAPSED_BUYERS";
COMMIT;
-- segment lapsed_buyers: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_LAPSED_BUYERS";

-- node: segment.new_customers (models/segments.yml:74)
-- segment new_customers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment new_customers: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_NEW_CUSTOMERS" AS WITH
-- profiles matching segment new_customers
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (
    (p."CUSTOMER_SINCE" IS NOT NULL AND p."CUSTOMER_SINCE" > CAST('2026-08-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND (
      (p."ORDERS_COUNT" IS NOT NULL AND p."ORDERS_COUNT" <= 1)
      OR p."FIRST_ORDER_AT" IS NULL
    )
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'new_customers'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment new_customers: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'new_customers';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'new_customers', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_NEW_CUSTOMERS";
COMMIT;
-- segment new_customers: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_NEW_CUSTOMERS";

-- node: segment.store_regulars (models/segments.yml:83)
-- segment store_regulars: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment store_regulars: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_STORE_REGULARS" AS WITH
-- profiles matching segment store_regulars
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (
    (p."STORE_VISITS_12M" IS NOT NULL AND p."STORE_VISITS_12M" >= 4)
    AND (p."LOYALTY_CARD" IS NOT NULL AND STARTSWITH(CAST(p."LOYALTY_CARD" AS VARCHAR), 'LC-'))
    AND (p."FAVORITE_STORE" IS NOT NULL AND p."FAVORITE_STORE" IN ('S01', 'S02', 'S03', 'S04'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'store_regulars'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment store_regulars: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'store_regulars';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'store_regulars', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_STORE_REGULARS";
COMMIT;
-- segment store_regulars: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_STORE_REGULARS";

-- node: segment.winback_eu_optin (models/segments.yml:91)
-- segment winback_eu_optin: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment winback_eu_optin: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_WINBACK_EU_OPTIN" AS WITH
-- profiles matching segment winback_eu_optin
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (
    (p."EMAIL_OPT_IN" IS NOT NULL AND p."EMAIL_OPT_IN" = TRUE)
    AND (p."COUNTRY" IS NULL OR p."COUNTRY" NOT IN ('US', 'GB'))
    AND (p."CRM_CREATED_AT" IS NOT NULL AND p."CRM_CREATED_AT" < CAST('2025-06-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND NOT ((p."LAST_SEEN_AT" IS NOT NULL AND p."LAST_SEEN_AT" >= DATEADD(hour, -1440, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AND p."LAST_SEEN_AT" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)))
    AND (
      (p."EMAIL" IS NOT NULL AND ENDSWITH(CAST(p."EMAIL" AS VARCHAR), '.fr'))
      OR (p."EMAIL" IS NOT NULL AND ENDSWITH(CAST(p."EMAIL" AS VARCHAR), '.de'))
      OR (p."EMAIL" IS NOT NULL AND CONTAINS(CAST(p."EMAIL" AS VARCHAR), '@gmail.'))
    )
    AND NOT (p."PROFILE_ID" IN (SELECT "PROFILE_ID" FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'vip_customers'))
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'winback_eu_optin'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment winback_eu_optin: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'winback_eu_optin';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'winback_eu_optin', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_WINBACK_EU_OPTIN";
COMMIT;
-- segment winback_eu_optin: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_WINBACK_EU_OPTIN";

-- node: segment.anonymous_browsers (models/segments.yml:105)
-- segment anonymous_browsers: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment anonymous_browsers: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_ANONYMOUS_BROWSERS" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- event product_viewed in web_events within 72h
ev1 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'product_viewed'
    AND "_CDP_TS" >= DATEADD(hour, -72, CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
    AND "_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)
  GROUP BY "_CDP_PROFILE_ID"
),
-- profiles matching segment anonymous_browsers
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  LEFT JOIN ev1 ON ev1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  WHERE (
    COALESCE(ev1."_CDP_N", 0) >= 2
    AND p."EMAIL" IS NULL
    AND (p."DEVICES" IS NOT NULL AND p."DEVICES" <= 1)
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'anonymous_browsers'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment anonymous_browsers: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'anonymous_browsers';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'anonymous_browsers', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_ANONYMOUS_BROWSERS";
COMMIT;
-- segment anonymous_browsers: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_ANONYMOUS_BROWSERS";

-- node: segment.newsletter_no_order (models/segments.yml:115)
-- segment newsletter_no_order: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment newsletter_no_order: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_NEWSLETTER_NO_ORDER" AS WITH
-- rows of source web_events with their profile
s1 AS (
  SELECT v.*, COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'user_id' AND i1."ID_VALUE" = v."_CDP_ID_1"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'anonymous_id' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE COALESCE(i1."PROFILE_ID", i0."PROFILE_ID") IS NOT NULL
),
-- event newsletter_signup in web_events
ev1 AS (
  SELECT "_CDP_PROFILE_ID", COUNT(*) AS "_CDP_N"
  FROM s1
  WHERE "EVENT_NAME" = 'newsletter_signup'
  GROUP BY "_CDP_PROFILE_ID"
),
-- profiles matching segment newsletter_no_order
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  LEFT JOIN ev1 ON ev1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  WHERE (
    COALESCE(ev1."_CDP_N", 0) >= 1
    AND p."FIRST_ORDER_AT" IS NULL
  )
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'newsletter_no_order'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment newsletter_no_order: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'newsletter_no_order';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'newsletter_no_order', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_NEWSLETTER_NO_ORDER";
COMMIT;
-- segment newsletter_no_order: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_NEWSLETTER_NO_ORDER";

-- node: consent.customer (models/consent.yml:8)
-- consent statements of every purpose
CREATE OR REPLACE TABLE "CDP"."CUSTOMER__CONSENT_STATEMENTS" COPY GRANTS AS WITH -- rows of source crm_contacts with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."PROFILE_ID", i3."PROFILE_ID", i2."PROFILE_ID", i1."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'email' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i3
    ON i3."ID_TYPE" = 'crm_id' AND i3."ID_VALUE" = v."_CDP_ID_3"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i2
    ON i2."ID_TYPE" = 'loyalty_card' AND i2."ID_VALUE" = v."_CDP_ID_2"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'phone' AND i1."ID_VALUE" = v."_CDP_ID_1"
  WHERE COALESCE(i0."PROFILE_ID", i3."PROFILE_ID", i2."PROFILE_ID", i1."PROFILE_ID") IS NOT NULL
),
-- rows of source consent_events with their profile
s2 AS (
  SELECT v.*, i0."PROFILE_ID" AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_CONSENT_EVENTS" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'email' AND i0."ID_VALUE" = v."_CDP_ID_0"
  WHERE i0."PROFILE_ID" IS NOT NULL
)
SELECT s1."_CDP_PROFILE_ID" AS profile_id, 'email_marketing' AS purpose, CASE WHEN LOWER(TRANSLATE(TRIM(CAST(s1."EMAIL_OPT_IN" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN LOWER(TRANSLATE(TRIM(CAST(s1."EMAIL_OPT_IN" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s1."EMAIL_OPT_IN" AS VARCHAR) AS raw_value, s1."_CDP_TS" AS decided_at, 'crm_contacts' AS source, CAST(s1."CONTACT_ID" AS VARCHAR) AS source_key, 0 AS priority
FROM s1
WHERE s1."EMAIL_OPT_IN" IS NOT NULL AND (s1."_CDP_TS" IS NULL OR s1."_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ))
UNION ALL
SELECT s2."_CDP_PROFILE_ID" AS profile_id, 'email_marketing' AS purpose, CASE WHEN LOWER(TRANSLATE(TRIM(CAST(s2."STATUS" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN LOWER(TRANSLATE(TRIM(CAST(s2."STATUS" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s2."STATUS" AS VARCHAR) AS raw_value, s2."_CDP_TS" AS decided_at, 'consent_events' AS source, CAST(s2."EVENT_ID" AS VARCHAR) AS source_key, 1 AS priority
FROM s2
WHERE s2."STATUS" IS NOT NULL AND (s2."_CDP_TS" IS NULL OR s2."_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AND TRIM(CAST(s2."PURPOSE" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = 'email_marketing'
UNION ALL
SELECT s2."_CDP_PROFILE_ID" AS profile_id, 'sms_marketing' AS purpose, CASE WHEN LOWER(TRANSLATE(TRIM(CAST(s2."STATUS" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('true', 't', 'yes', 'y', '1', 'granted', 'grant', 'opt_in', 'opt-in', 'opted_in', 'optin', 'subscribed', 'on', 'allow', 'allowed', 'accepted') THEN 'granted' WHEN LOWER(TRANSLATE(TRIM(CAST(s2."STATUS" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿'), 'İΣ', 'iσ')) IN ('false', 'f', 'no', 'n', '0', 'denied', 'deny', 'opt_out', 'opt-out', 'opted_out', 'optout', 'unsubscribed', 'off', 'revoked', 'withdrawn', 'declined', 'rejected') THEN 'denied' END AS state, CAST(s2."STATUS" AS VARCHAR) AS raw_value, s2."_CDP_TS" AS decided_at, 'consent_events' AS source, CAST(s2."EVENT_ID" AS VARCHAR) AS source_key, 0 AS priority
FROM s2
WHERE s2."STATUS" IS NOT NULL AND (s2."_CDP_TS" IS NULL OR s2."_CDP_TS" <= CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AND TRIM(CAST(s2."PURPOSE" AS VARCHAR), '	
                  　᠎​‌‍⁠﻿') = 'sms_marketing';
-- build customer_consent_rejected (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_CONSENT_REJECTED" COPY GRANTS AS SELECT profile_id, purpose, source, source_key, raw_value, decided_at,
  'neither granted nor denied' AS reason
FROM "CDP"."CUSTOMER__CONSENT_STATEMENTS"
WHERE state IS NULL;
COMMIT;
-- build customer_consent (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_CONSENT" COPY GRANTS AS WITH ranked AS (
SELECT st.profile_id, st.purpose, st.state, st.decided_at, st.source,
  ROW_NUMBER() OVER (PARTITION BY st.profile_id, st.purpose ORDER BY CASE WHEN st.decided_at IS NULL THEN 1 ELSE 0 END, st.decided_at DESC, st.priority, CASE WHEN st.state = 'denied' THEN 0 ELSE 1 END, COLLATE(st.source_key, 'utf8')) AS rn
FROM "CDP"."CUSTOMER__CONSENT_STATEMENTS" AS st
WHERE st.state IS NOT NULL
), purposes AS (
SELECT 'email_marketing' AS purpose, 'denied' AS default_state
UNION ALL
SELECT 'sms_marketing' AS purpose, 'denied' AS default_state
), profiles AS (
SELECT DISTINCT profile_id FROM "CDP"."CUSTOMER_IDENTIFIERS"
)
SELECT pr.profile_id, u.purpose, COALESCE(r.state, 'unknown') AS state, r.decided_at, r.source,
  CASE WHEN COALESCE(r.state, u.default_state) = 'granted' THEN TRUE ELSE FALSE END AS allowed
FROM profiles AS pr CROSS JOIN purposes AS u
LEFT JOIN ranked AS r ON r.profile_id = pr.profile_id AND r.purpose = u.purpose AND r.rn = 1;
COMMIT;
-- drop the consent statements
DROP TABLE IF EXISTS "CDP"."CUSTOMER__CONSENT_STATEMENTS";

-- after every node of a complete run succeeded: record the watermarks
-- state: watermarks table
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_WATERMARKS" ("SOURCE" VARCHAR, "WATERMARK" TIMESTAMP_NTZ, "AS_OF" TIMESTAMP_NTZ, "FINGERPRINT" VARCHAR, "RUN_ID" VARCHAR);
-- state: the latest row time read from each source
CREATE OR REPLACE TABLE "CDP"."CUSTOMER__WM_NEXT" COPY GRANTS AS SELECT 'crm_contacts' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_CRM_CONTACTS" AS v) AS "WATERMARK"
UNION ALL
SELECT 'shop_customers' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_SHOP_CUSTOMERS" AS v) AS "WATERMARK"
UNION ALL
SELECT 'orders' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_ORDERS" AS v) AS "WATERMARK"
UNION ALL
SELECT 'pos_transactions' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_POS_TRANSACTIONS" AS v) AS "WATERMARK"
UNION ALL
SELECT 'web_events' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_WEB_EVENTS" AS v) AS "WATERMARK"
UNION ALL
SELECT 'consent_events' AS "SOURCE", (SELECT MAX(v."_CDP_TS") FROM "CDP"."CUSTOMER_SRC_CONSENT_EVENTS" AS v) AS "WATERMARK";
-- state: record the watermarks of this run (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_WATERMARKS" WHERE TRUE;
INSERT INTO "CDP"."CUSTOMER_WATERMARKS" ("SOURCE", "WATERMARK", "AS_OF", "FINGERPRINT", "RUN_ID")
SELECT "SOURCE", "WATERMARK", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ), '1eb665a541935aba', 'compile' FROM "CDP"."CUSTOMER__WM_NEXT";
COMMIT;
-- drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__WM_NEXT";
