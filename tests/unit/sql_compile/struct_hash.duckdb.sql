CREATE TABLE "_sluiceway_staging"."dim__inc" AS
SELECT s.*, CASE WHEN s.__del THEN '(deleted)'
    ELSE md5(CAST(to_json(struct_pack("id" := s."id", "city" := s."city")) AS VARCHAR)) END AS __hash
FROM "_sluiceway_staging"."dim__inc0" AS s
