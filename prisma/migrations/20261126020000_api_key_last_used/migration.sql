-- When each consumer key was last used (updated at most once a minute), for listing and revoking keys.

-- AlterTable
ALTER TABLE "consumer_api_keys" ADD COLUMN     "last_used_at" TIMESTAMPTZ(3);
