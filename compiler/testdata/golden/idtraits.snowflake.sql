-- node: profiles.customer (models/project.yml:34)
-- build customer_profiles (atomic)
BEGIN;
CREATE OR REPLACE TABLE "CDP"."CUSTOMER_PROFILES" COPY GRANTS AS WITH
-- rows of source crm with their profile
s1 AS (
  SELECT v.*, COALESCE(i0."PROFILE_ID", i1."PROFILE_ID") AS "_CDP_PROFILE_ID"
  FROM "CDP"."CUSTOMER_SRC_CRM" AS v
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i0
    ON i0."ID_TYPE" = 'email' AND i0."ID_VALUE" = v."_CDP_ID_0"
  LEFT JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i1
    ON i1."ID_TYPE" = 'phone' AND i1."ID_VALUE" = v."_CDP_ID_1"
  WHERE COALESCE(i0."PROFILE_ID", i1."PROFILE_ID") IS NOT NULL
),
-- normalized email identifiers of the source rows, with their profile
o1 AS (
  SELECT i."PROFILE_ID" AS "_CDP_PROFILE_ID", o."_CDP_VALUE", o."_CDP_TS", o."_CDP_SOURCE"
  FROM (
    SELECT v."_CDP_ID_0" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'crm' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_CRM" AS v
    WHERE v."_CDP_ID_0" IS NOT NULL
    UNION ALL
    SELECT v."_CDP_ID_0" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'shop' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_SHOP" AS v
    WHERE v."_CDP_ID_0" IS NOT NULL
    UNION ALL
    SELECT v."_CDP_ID_1" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'shop' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_SHOP" AS v
    WHERE v."_CDP_ID_1" IS NOT NULL
      AND (v."_CDP_ID_0" IS NULL OR v."_CDP_ID_1" <> v."_CDP_ID_0")
    UNION ALL
    SELECT v."_CDP_ID_0" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'pos' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_POS" AS v
    WHERE v."_CDP_ID_0" IS NOT NULL
  ) AS o
  JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i
    ON i."ID_TYPE" = 'email' AND i."ID_VALUE" = o."_CDP_VALUE"
),
-- normalized phone identifiers of the source rows, with their profile
o2 AS (
  SELECT i."PROFILE_ID" AS "_CDP_PROFILE_ID", o."_CDP_VALUE", o."_CDP_TS", o."_CDP_SOURCE"
  FROM (
    SELECT v."_CDP_ID_1" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'crm' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_CRM" AS v
    WHERE v."_CDP_ID_1" IS NOT NULL
    UNION ALL
    SELECT v."_CDP_ID_1" AS "_CDP_VALUE", v."_CDP_TS" AS "_CDP_TS", 'pos' AS "_CDP_SOURCE"
    FROM "CDP"."CUSTOMER_SRC_POS" AS v
    WHERE v."_CDP_ID_1" IS NOT NULL
  ) AS o
  JOIN "CDP"."CUSTOMER_IDENTIFIERS" AS i
    ON i."ID_TYPE" = 'phone' AND i."ID_VALUE" = o."_CDP_VALUE"
),
-- trait email: most_frequent identifier email of crm, shop, pos
t1 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY "_CDP_N" DESC, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, COLLATE("_CDP_VALUE", 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM o1
      GROUP BY "_CDP_PROFILE_ID", "_CDP_VALUE"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait email_recent: most_recent identifier email of crm, shop, pos
t2 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, "_CDP_N" DESC, COLLATE("_CDP_VALUE", 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM o1
      GROUP BY "_CDP_PROFILE_ID", "_CDP_VALUE"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait email_crm_first: source_priority identifier email of crm, shop
t3 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY CASE "_CDP_SOURCE" WHEN 'crm' THEN 1 WHEN 'shop' THEN 2 END, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, "_CDP_N" DESC, COLLATE("_CDP_VALUE", 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "_CDP_VALUE", "_CDP_SOURCE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM o1
      WHERE "_CDP_SOURCE" IN ('crm', 'shop')
      GROUP BY "_CDP_PROFILE_ID", "_CDP_VALUE", "_CDP_SOURCE"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait email_shop_first: source_priority identifier email of shop, crm
t4 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY CASE "_CDP_SOURCE" WHEN 'shop' THEN 1 WHEN 'crm' THEN 2 END, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, "_CDP_N" DESC, COLLATE("_CDP_VALUE", 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "_CDP_VALUE", "_CDP_SOURCE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM o1
      WHERE "_CDP_SOURCE" IN ('shop', 'crm')
      GROUP BY "_CDP_PROFILE_ID", "_CDP_VALUE", "_CDP_SOURCE"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait phone: most_frequent identifier phone of crm, pos
t5 AS (
  SELECT "_CDP_PROFILE_ID", "_CDP_VALUE"
  FROM (
    SELECT
      "_CDP_PROFILE_ID",
      "_CDP_VALUE",
      ROW_NUMBER() OVER (
        PARTITION BY "_CDP_PROFILE_ID"
        ORDER BY "_CDP_N" DESC, ("_CDP_LAST_TS" IS NULL), "_CDP_LAST_TS" DESC, COLLATE("_CDP_VALUE", 'utf8')
      ) AS "_CDP_RN"
    FROM (
      SELECT "_CDP_PROFILE_ID", "_CDP_VALUE", COUNT(*) AS "_CDP_N", MAX("_CDP_TS") AS "_CDP_LAST_TS"
      FROM o2
      GROUP BY "_CDP_PROFILE_ID", "_CDP_VALUE"
    ) AS g
  ) AS r
  WHERE "_CDP_RN" = 1
),
-- trait raw_email: latest of crm.email
t6 AS (
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
-- every profile with its source-based traits
base AS (
  SELECT
    p."PROFILE_ID",
    t1."_CDP_VALUE" AS "EMAIL",
    t2."_CDP_VALUE" AS "EMAIL_RECENT",
    t3."_CDP_VALUE" AS "EMAIL_CRM_FIRST",
    t4."_CDP_VALUE" AS "EMAIL_SHOP_FIRST",
    t5."_CDP_VALUE" AS "PHONE",
    t6."_CDP_VALUE" AS "RAW_EMAIL"
  FROM (
    SELECT DISTINCT "PROFILE_ID"
    FROM "CDP"."CUSTOMER_IDENTIFIERS"
  ) AS p
  LEFT JOIN t1 ON t1."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t2 ON t2."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t3 ON t3."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t4 ON t4."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t5 ON t5."_CDP_PROFILE_ID" = p."PROFILE_ID"
  LEFT JOIN t6 ON t6."_CDP_PROFILE_ID" = p."PROFILE_ID"
),
-- expression traits, layer 1
x1 AS (
  SELECT
    *,
    (CASE WHEN email = email_recent THEN 'same' ELSE 'moved' END) AS "EMAIL_MOVED"
  FROM base
)
SELECT
  "PROFILE_ID",
  "EMAIL",
  "EMAIL_RECENT",
  "EMAIL_CRM_FIRST",
  "EMAIL_SHOP_FIRST",
  "PHONE",
  "RAW_EMAIL",
  "EMAIL_MOVED",
  CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ) AS "UPDATED_AT"
FROM x1;
COMMIT;

-- node: segment.x_io (models/project.yml:43)
-- segment x_io: create customer_segments if missing
CREATE TABLE IF NOT EXISTS "CDP"."CUSTOMER_SEGMENTS" (
  "SEGMENT" VARCHAR,
  "PROFILE_ID" VARCHAR,
  "IN_HOLDOUT" BOOLEAN,
  "ENTERED_AT" TIMESTAMP_NTZ
);
-- segment x_io: compute members
CREATE OR REPLACE TRANSIENT TABLE "CDP"."CUSTOMER__SEG_X_IO" AS WITH
-- profiles matching segment x_io
members AS (
  SELECT p."PROFILE_ID"
  FROM "CDP"."CUSTOMER_PROFILES" AS p
  WHERE (p."EMAIL_RECENT" IS NOT NULL AND ENDSWITH(CAST(p."EMAIL_RECENT" AS VARCHAR), '@x.io'))
),
-- current members and when they entered
prev AS (
  SELECT "PROFILE_ID", "ENTERED_AT"
  FROM "CDP"."CUSTOMER_SEGMENTS"
  WHERE "SEGMENT" = 'x_io'
)
SELECT
  m."PROFILE_ID",
  FALSE AS "IN_HOLDOUT",
  COALESCE(prev."ENTERED_AT", CAST('2026-11-01 00:00:00.000000' AS TIMESTAMP_NTZ)) AS "ENTERED_AT"
FROM members AS m
LEFT JOIN prev ON prev."PROFILE_ID" = m."PROFILE_ID";
-- segment x_io: replace rows (atomic)
BEGIN;
DELETE FROM "CDP"."CUSTOMER_SEGMENTS" WHERE "SEGMENT" = 'x_io';
INSERT INTO "CDP"."CUSTOMER_SEGMENTS" ("SEGMENT", "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT")
SELECT 'x_io', "PROFILE_ID", "IN_HOLDOUT", "ENTERED_AT"
FROM "CDP"."CUSTOMER__SEG_X_IO";
COMMIT;
-- segment x_io: drop scratch table
DROP TABLE IF EXISTS "CDP"."CUSTOMER__SEG_X_IO";
