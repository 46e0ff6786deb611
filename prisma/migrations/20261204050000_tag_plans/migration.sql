-- A plan for every consumer carrying a tag (a consumer's own plan comes first).

CREATE TABLE "tag_plans" (
    "tag" TEXT NOT NULL,
    "book_id" UUID NOT NULL,
    "markup_percent" DECIMAL(9,4),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "tag_plans_pkey" PRIMARY KEY ("tag")
);
CREATE INDEX "tag_plans_book_id_idx" ON "tag_plans"("book_id");
ALTER TABLE "tag_plans" ADD CONSTRAINT "tag_plans_book_id_fkey" FOREIGN KEY ("book_id") REFERENCES "price_books"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
