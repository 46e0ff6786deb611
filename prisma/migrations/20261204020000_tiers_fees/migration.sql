-- Tiered, volume and package pricing per price version, a fee and a minimum per billing period per book,
-- invoice lines for those plan charges (no token type on a fee or a minimum).

ALTER TABLE "price_book_prices" ADD COLUMN "tiering" JSONB;
ALTER TABLE "price_books" ADD COLUMN "fee_per_period" DECIMAL(30,12);
ALTER TABLE "price_books" ADD COLUMN "minimum_per_period" DECIMAL(30,12);
ALTER TABLE "invoice_lines" ADD COLUMN "charge" TEXT;
ALTER TABLE "invoice_lines" ALTER COLUMN "direction" DROP NOT NULL;
