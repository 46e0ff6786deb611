-- A consumer's own prices for named models (overrides of its plan), kept as a price book the consumer owns.

ALTER TABLE "price_books" ADD COLUMN "owner_consumer_id" UUID;
CREATE UNIQUE INDEX "price_books_owner_consumer_id_key" ON "price_books"("owner_consumer_id");
ALTER TABLE "price_books" ADD CONSTRAINT "price_books_owner_consumer_id_fkey" FOREIGN KEY ("owner_consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
