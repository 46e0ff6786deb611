-- The route and service a call went through (Kong's ids and names): a few hundred distinct ones
-- shared by millions of calls. call_routes holds each once, named by the md5 of the jsonb array of
-- its four fields, so every writer names the same route the same way without asking. A call with
-- none of the four has no route.
CREATE TABLE "call_routes" (
    "id" UUID NOT NULL,
    "route_id" TEXT,
    "route_name" TEXT,
    "service_id" TEXT,
    "service_name" TEXT,
    CONSTRAINT "call_routes_pkey" PRIMARY KEY ("id")
);
INSERT INTO "call_routes" ("id", "route_id", "route_name", "service_id", "service_name")
SELECT DISTINCT ON (1) md5(jsonb_build_array("route_id", "route_name", "service_id", "service_name")::text)::uuid,
    "route_id", "route_name", "service_id", "service_name"
FROM "usage_events"
WHERE coalesce("route_id", "route_name", "service_id", "service_name") IS NOT NULL;
ALTER TABLE "usage_events" ADD COLUMN "call_route_id" UUID;
UPDATE "usage_events" SET "call_route_id" = md5(jsonb_build_array("route_id", "route_name", "service_id", "service_name")::text)::uuid
WHERE coalesce("route_id", "route_name", "service_id", "service_name") IS NOT NULL;
ALTER TABLE "usage_events" DROP COLUMN "route_id", DROP COLUMN "route_name", DROP COLUMN "service_id", DROP COLUMN "service_name";
