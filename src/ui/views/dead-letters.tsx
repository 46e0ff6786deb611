// Dead letters (operator): filtered by stage and reason, each inspected with its payload, and the
// selected ones replayed once their cause is fixed; the replay's outcome per letter is shown.
import { useState } from "preact/hooks";
import type { DeadLetter, DeadLetterList, ReplayReport } from "../../http/contract/types.ts";
import type { Api } from "../api.ts";
import { ConfirmButton, useAction, Toggle } from "../components/forms.tsx";
import { instant } from "../format.ts";
import { Status, useLoad } from "../load.tsx";

function Inspect(p: { api: Api; id: string; timeZone: string }) {
  const one = useLoad<DeadLetter>(p.api, `/v1/dead-letters/${p.id}`);
  if (!one.data) return <Status state={one} what="dead letter" />;
  const d = one.data;
  return (
    <div class="inspect" data-testid="dead-letter-detail">
      <dl class="facts">
        <dt>Reason</dt>
        <dd>{d.reason}</dd>
        <dt>Source</dt>
        <dd>
          {d.source ? `${d.source.topic} partition ${d.source.partition ?? "—"} offset ${d.source.offset ?? "—"}` : "—"}
        </dd>
        <dt>Event</dt>
        <dd>{d.event_id ?? "—"}</dd>
        <dt>Replayed</dt>
        <dd>
          {d.replay_count} times{d.last_replayed_at ? `, last ${instant(d.last_replayed_at, p.timeZone)}` : ""}
        </dd>
      </dl>
      <h3>Payload as received</h3>
      {/* focusable: a long payload scrolls, and the keyboard must reach it */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is reached by the keyboard */}
      <pre class="payload" tabIndex={0}>
        {d.payload}
        {d.truncated ? "\n… (truncated)" : ""}
      </pre>
    </div>
  );
}

export function DeadLetters(p: { api: Api; timeZone: string }) {
  const [stage, setStage] = useState("");
  const [reason, setReason] = useState("");
  const [filter, setFilter] = useState("");
  const list = useLoad<DeadLetterList>(p.api, `/v1/dead-letters?limit=200${filter}`);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const [report, setReport] = useState<ReplayReport | null>(null);
  const replay = useAction(
    () => p.api.send<ReplayReport>("POST", "/v1/dead-letters/replay", { ids: [...selected] }),
    (r) => {
      setReport(r);
      setSelected(new Set());
      list.reload();
    },
  );
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return (
    <article>
      <h1>Dead letters</h1>
      <p>
        Messages the pipeline could not take, kept with their payload. Fix the cause (a consumer's configuration, a
        price, a bug), then replay them: each goes through the pipeline again, once.
      </p>
      <form
        class="search"
        aria-label="Filter dead letters"
        onSubmit={(e) => {
          e.preventDefault();
          const q = new URLSearchParams();
          if (stage) q.set("stage", stage);
          if (reason.trim()) q.set("reason", reason.trim());
          setFilter(q.size ? `&${q}` : "");
          setSelected(new Set());
        }}
      >
        <label for="dl-stage">Stage</label>
        <select id="dl-stage" value={stage} onChange={(e) => setStage((e.target as HTMLSelectElement).value)}>
          <option value="">any</option>
          <option value="ingest">ingest</option>
          <option value="meter">meter</option>
        </select>
        <label for="dl-reason">Reason</label>
        <input id="dl-reason" value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        <button type="submit">Filter</button>
      </form>
      {report && (
        <div role="status" class="report" data-testid="replay-report">
          <p>
            Replayed: {report.resubmitted} resubmitted,{" "}
            {report.outcomes.filter((o) => o.outcome === "still_refused").length} still refused.
          </p>
          <ul>
            {report.outcomes.map((o) => (
              <li key={o.id}>
                {o.id.slice(0, 8)}: {o.outcome.replace("_", " ")}
                {o.detail ? ` (${o.detail})` : ""}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!list.data ? (
        <Status state={list} what="dead letters" />
      ) : list.data.dead_letters.length === 0 ? (
        <p>None.</p>
      ) : (
        <>
          <div class="toolbar">
            <ConfirmButton
              label={`Replay selected (${selected.size})`}
              title={`Replay ${selected.size} dead letters?`}
              confirm="Replay"
              action={replay}
            >
              <p>Each goes through the pipeline again. One the pipeline still refuses stays a dead letter.</p>
            </ConfirmButton>
          </div>
          <table aria-label="Dead letters" data-testid="dead-letter-list">
            <thead>
              <tr>
                <th scope="col">
                  <span class="sr-only">Select</span>
                </th>
                <th scope="col">Failed</th>
                <th scope="col">Stage</th>
                <th scope="col">Kind</th>
                <th scope="col">Reason</th>
                <th scope="col" class="num">
                  Replays
                </th>
                <th scope="col">
                  <span class="sr-only">Inspect</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.dead_letters.map((d) => (
                <tr key={d.id} data-dead-letter={d.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select the dead letter of ${instant(d.failed_at, p.timeZone)}: ${d.kind}`}
                      checked={selected.has(d.id)}
                      onChange={() => toggle(d.id)}
                    />
                  </td>
                  <td>{instant(d.failed_at, p.timeZone)}</td>
                  <td>{d.stage}</td>
                  <td>{d.kind}</td>
                  <td>{d.reason}</td>
                  <td class="num">{d.replay_count}</td>
                  <td>
                    <Toggle item={d.id} open={open} setOpen={setOpen} show="Inspect" hide="Hide" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {open && <Inspect api={p.api} id={open} timeZone={p.timeZone} />}
        </>
      )}
    </article>
  );
}
