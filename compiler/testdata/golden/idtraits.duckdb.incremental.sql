-- node: profiles.customer (models/project.yml:34)
-- update customer_profiles: profiles that may have changed
CREATE OR REPLACE TABLE "cdp"."customer__prof_dirty" AS SELECT DISTINCT "profile_id" FROM (
SELECT "profile_id" FROM "cdp"."customer__changed_profiles"
UNION ALL
SELECT "_cdp_profile_id" AS "profile_id" FROM (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_crm" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'phone' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_ts" >= TIMESTAMP '2026-10-31 23:00:00.000000' OR v."_cdp_ts" IS NULL)
) AS r
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_crm" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'email' AND i."id_value" = v."_cdp_id_0"
WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-31 23:00:00.000000' OR v."_cdp_ts" IS NULL)
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_crm" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'phone' AND i."id_value" = v."_cdp_id_1"
WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-31 23:00:00.000000' OR v."_cdp_ts" IS NULL)
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_shop" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'email' AND i."id_value" = v."_cdp_id_0"
WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-31 23:00:00.000000' OR v."_cdp_ts" IS NULL)
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_shop" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'email' AND i."id_value" = v."_cdp_id_1"
WHERE (v."_cdp_ts" >= TIMESTAMP '2026-10-31 23:00:00.000000' OR v."_cdp_ts" IS NULL)
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_pos" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'email' AND i."id_value" = v."_cdp_id_0"
WHERE TRUE
UNION ALL
SELECT i."profile_id" FROM "cdp"."customer_src_pos" AS v
JOIN "cdp"."customer_identifiers" AS i ON i."id_type" = 'phone' AND i."id_value" = v."_cdp_id_1"
WHERE TRUE
) AS u;
-- update customer_profiles: their identifiers
CREATE OR REPLACE TABLE "cdp"."customer__prof_dirty_ids" AS SELECT "id_type", "id_value" FROM "cdp"."customer_identifiers" WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty");
-- update customer_profiles: replace their rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_profiles" WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty");
INSERT INTO "cdp"."customer_profiles" ("profile_id", "email", "email_recent", "email_crm_first", "email_shop_first", "phone", "raw_email", "email_moved", "updated_at")
WITH
-- rows of source crm with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."profile_id", i1."profile_id") AS "_cdp_profile_id"
  FROM "cdp"."customer_src_crm" AS v
  LEFT JOIN "cdp"."customer_identifiers" AS i0
    ON i0."id_type" = 'email' AND i0."id_value" = v."_cdp_id_0"
  LEFT JOIN "cdp"."customer_identifiers" AS i1
    ON i1."id_type" = 'phone' AND i1."id_value" = v."_cdp_id_1"
  WHERE COALESCE(i0."profile_id", i1."profile_id") IS NOT NULL
    AND (v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email') OR v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone'))
    AND COALESCE(i0."profile_id", i1."profile_id") IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
),
-- normalized email identifiers of the source rows, with their profile
o1 AS (
  SELECT i."profile_id" AS "_cdp_profile_id", o."_cdp_value", o."_cdp_ts", o."_cdp_source"
  FROM (
    SELECT v."_cdp_id_0" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'crm' AS "_cdp_source"
    FROM "cdp"."customer_src_crm" AS v
    WHERE v."_cdp_id_0" IS NOT NULL
      AND v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email')
    UNION ALL
    SELECT v."_cdp_id_0" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'shop' AS "_cdp_source"
    FROM "cdp"."customer_src_shop" AS v
    WHERE v."_cdp_id_0" IS NOT NULL
      AND v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email')
    UNION ALL
    SELECT v."_cdp_id_1" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'shop' AS "_cdp_source"
    FROM "cdp"."customer_src_shop" AS v
    WHERE v."_cdp_id_1" IS NOT NULL
      AND (v."_cdp_id_0" IS NULL OR v."_cdp_id_1" <> v."_cdp_id_0")
      AND v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email')
    UNION ALL
    SELECT v."_cdp_id_0" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'pos' AS "_cdp_source"
    FROM "cdp"."customer_src_pos" AS v
    WHERE v."_cdp_id_0" IS NOT NULL
      AND v."_cdp_id_0" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'email')
  ) AS o
  JOIN "cdp"."customer_identifiers" AS i
    ON i."id_type" = 'email' AND i."id_value" = o."_cdp_value"
),
-- normalized phone identifiers of the source rows, with their profile
o2 AS (
  SELECT i."profile_id" AS "_cdp_profile_id", o."_cdp_value", o."_cdp_ts", o."_cdp_source"
  FROM (
    SELECT v."_cdp_id_1" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'crm' AS "_cdp_source"
    FROM "cdp"."customer_src_crm" AS v
    WHERE v."_cdp_id_1" IS NOT NULL
      AND v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone')
    UNION ALL
    SELECT v."_cdp_id_1" AS "_cdp_value", v."_cdp_ts" AS "_cdp_ts", 'pos' AS "_cdp_source"
    FROM "cdp"."customer_src_pos" AS v
    WHERE v."_cdp_id_1" IS NOT NULL
      AND v."_cdp_id_1" IN (SELECT "id_value" FROM "cdp"."customer__prof_dirty_ids" WHERE "id_type" = 'phone')
  ) AS o
  JOIN "cdp"."customer_identifiers" AS i
    ON i."id_type" = 'phone' AND i."id_value" = o."_cdp_value"
),
-- trait email: most_frequent identifier email of crm, shop, pos
t1 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, ("_cdp_value" COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM o1
      GROUP BY "_cdp_profile_id", "_cdp_value"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait email_recent: most_recent identifier email of crm, shop, pos
t2 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, "_cdp_n" DESC, ("_cdp_value" COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM o1
      GROUP BY "_cdp_profile_id", "_cdp_value"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait email_crm_first: source_priority identifier email of crm, shop
t3 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY CASE "_cdp_source" WHEN 'crm' THEN 1 WHEN 'shop' THEN 2 END, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, "_cdp_n" DESC, ("_cdp_value" COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "_cdp_value", "_cdp_source", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM o1
      WHERE "_cdp_source" IN ('crm', 'shop')
      GROUP BY "_cdp_profile_id", "_cdp_value", "_cdp_source"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait email_shop_first: source_priority identifier email of shop, crm
t4 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY CASE "_cdp_source" WHEN 'shop' THEN 1 WHEN 'crm' THEN 2 END, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, "_cdp_n" DESC, ("_cdp_value" COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "_cdp_value", "_cdp_source", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM o1
      WHERE "_cdp_source" IN ('shop', 'crm')
      GROUP BY "_cdp_profile_id", "_cdp_value", "_cdp_source"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait phone: most_frequent identifier phone of crm, pos
t5 AS (
  SELECT "_cdp_profile_id", "_cdp_value"
  FROM (
    SELECT
      "_cdp_profile_id",
      "_cdp_value",
      ROW_NUMBER() OVER (
        PARTITION BY "_cdp_profile_id"
        ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, ("_cdp_value" COLLATE "binary")
      ) AS "_cdp_rn"
    FROM (
      SELECT "_cdp_profile_id", "_cdp_value", COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"
      FROM o2
      GROUP BY "_cdp_profile_id", "_cdp_value"
    ) AS g
  ) AS r
  WHERE "_cdp_rn" = 1
),
-- trait raw_email: latest of crm.email
t6 AS (
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
-- every profile with its source-based traits
base AS (
  SELECT
    p."profile_id",
    t1."_cdp_value" AS "email",
    t2."_cdp_value" AS "email_recent",
    t3."_cdp_value" AS "email_crm_first",
    t4."_cdp_value" AS "email_shop_first",
    t5."_cdp_value" AS "phone",
    t6."_cdp_value" AS "raw_email"
  FROM (
    SELECT DISTINCT "profile_id"
    FROM "cdp"."customer_identifiers"
    WHERE "profile_id" IN (SELECT "profile_id" FROM "cdp"."customer__prof_dirty")
  ) AS p
  LEFT JOIN t1 ON t1."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t2 ON t2."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t3 ON t3."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t4 ON t4."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t5 ON t5."_cdp_profile_id" = p."profile_id"
  LEFT JOIN t6 ON t6."_cdp_profile_id" = p."profile_id"
),
-- expression traits, layer 1
x1 AS (
  SELECT
    *,
    (CASE WHEN email = email_recent THEN 'same' ELSE 'moved' END) AS "email_moved"
  FROM base
)
SELECT
  "profile_id",
  "email",
  "email_recent",
  "email_crm_first",
  "email_shop_first",
  "phone",
  "raw_email",
  "email_moved",
  TIMESTAMP '2026-11-01 00:00:00.000000' AS "updated_at"
FROM x1;
COMMIT;
-- update customer_profiles: drop scratch tables
DROP TABLE IF EXISTS "cdp"."customer__prof_dirty";
DROP TABLE IF EXISTS "cdp"."customer__prof_dirty_ids";
DROP TABLE IF EXISTS "cdp"."customer__changed_profiles";

-- node: segment.x_io (models/project.yml:43)
-- segment x_io: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "cdp"."customer_segments" (
  "segment" VARCHAR,
  "profile_id" VARCHAR,
  "in_holdout" BOOLEAN,
  "entered_at" TIMESTAMP
);
-- segment x_io: compute members
CREATE OR REPLACE TABLE "cdp"."customer__seg_x_io" AS WITH
-- profiles matching segment x_io
members AS (
  SELECT p."profile_id"
  FROM "cdp"."customer_profiles" AS p
  WHERE (p."email_recent" IS NOT NULL AND suffix(CAST(p."email_recent" AS VARCHAR), '@x.io'))
),
-- current members and when they entered
prev AS (
  SELECT "profile_id", "entered_at"
  FROM "cdp"."customer_segments"
  WHERE "segment" = 'x_io'
)
SELECT
  m."profile_id",
  FALSE AS "in_holdout",
  COALESCE(prev."entered_at", TIMESTAMP '2026-11-01 00:00:00.000000') AS "entered_at"
FROM members AS m
LEFT JOIN prev ON prev."profile_id" = m."profile_id";
-- segment x_io: replace rows (atomic)
BEGIN;
DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'x_io';
INSERT INTO "cdp"."customer_segments" ("segment", "profile_id", "in_holdout", "entered_at")
SELECT 'x_io', "profile_id", "in_holdout", "entered_at"
FROM "cdp"."customer__seg_x_io";
COMMIT;
-- segment x_io: drop scratch table
DROP TABLE IF EXISTS "cdp"."customer__seg_x_io";
