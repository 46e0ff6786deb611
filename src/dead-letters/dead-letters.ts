// Dead letters for the API: list and inspect them, and replay them once their cause is fixed.
import type { Db } from "../db/client.ts";
import { notFound } from "../domain/errors.ts";
import type { IngestDeps } from "../ingest/ingest-body.ts";
import { countDeadLetters, findDeadLetter, listDeadLetters, type DeadLetterFilter } from "./dead-letter.repository.ts";
import { replayDeadLetters } from "./replay.service.ts";

export class DeadLetters {
  constructor(
    private readonly db: Db,
    private readonly ingest: IngestDeps,
  ) {}

  list(filter: DeadLetterFilter, page: Parameters<typeof listDeadLetters>[2]) {
    return listDeadLetters(this.db, filter, page);
  }

  async show(id: string) {
    const letter = await findDeadLetter(this.db, id);
    if (!letter) throw notFound(`no dead letter ${id}`);
    return letter;
  }

  /** Stored dead letters by stage and whether they were replayed (the /metrics gauge). */
  counts() {
    return countDeadLetters(this.db);
  }

  replay(filter: DeadLetterFilter, limit: number) {
    return replayDeadLetters(this.db, filter, limit, this.ingest);
  }
}
