-- A fee per request beside the per-token prices of a book price, and the fee each call was billed.

ALTER TABLE "price_book_prices" ADD COLUMN "request_fee" DECIMAL(24,12);
ALTER TABLE "usage_events" ADD COLUMN "request_fee" DECIMAL(24,12);
