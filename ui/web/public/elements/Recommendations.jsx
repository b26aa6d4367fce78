// recbot's recommendation cards. Chainlit injects `props` globally (see ui/cards.py for the
// shape) and `callAction`; a click sends the feedback to `@cl.action_callback("recbot_feedback")`,
// which updates this element's props on the server (a rejected item is replaced in place).
import { useState } from "react";
import { Check, ThumbsDown, ThumbsUp } from "lucide-react";

// Icons rather than emoji, so the buttons render on machines without an emoji font.
const BUTTONS = [
  { kind: "liked", Icon: ThumbsUp, title: "Like: more like this" },
  { kind: "rejected", Icon: ThumbsDown, title: "Not for me: replace it" },
  { kind: "seen", Icon: Check, title: "Seen it: replace it" },
];

function Card({ item, detail, onFeedback, busy }) {
  const liked = item.status === "liked";
  return (
    <div
      data-testid="rec-card"
      data-item-id={item.item_id}
      className="rounded-lg border border-border bg-card p-3 flex flex-col gap-1"
    >
      <div className="flex items-start justify-between gap-2">
        <div className="recbot-card-title font-semibold">
          <span data-testid="rec-title">{item.title}</span>
          {item.year ? <span className="text-muted-foreground font-normal"> · {item.year}</span> : null}
        </div>
        <div className="flex gap-1 shrink-0">
          {BUTTONS.map((b) => (
            <button
              key={b.kind}
              type="button"
              title={b.title}
              aria-label={b.title}
              data-testid={`rec-${b.kind}`}
              disabled={busy || (liked && b.kind === "liked")}
              onClick={() => onFeedback(item, b.kind)}
              className={
                "rounded-md border border-border p-1.5 hover:bg-accent disabled:opacity-50 " +
                (liked && b.kind === "liked" ? "bg-accent" : "")
              }
            >
              <b.Icon className="h-4 w-4" />
            </button>
          ))}
        </div>
      </div>
      {item.genres && item.genres.length ? (
        <div className="flex flex-wrap gap-1">
          {item.genres.map((g) => (
            <span key={g} className="rounded-full bg-muted px-2 text-xs text-muted-foreground">
              {g}
            </span>
          ))}
        </div>
      ) : null}
      {item.reason ? <div data-testid="rec-reason" className="text-sm">{item.reason}</div> : null}
      {item.overview ? (
        <div className="text-sm text-muted-foreground">{item.overview}</div>
      ) : null}
      {detail === "full" && item.details && item.details.length ? (
        <ul className="text-xs text-muted-foreground list-disc pl-4">
          {item.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      ) : null}
      {item.note ? <div className="text-xs text-muted-foreground italic">{item.note}</div> : null}
    </div>
  );
}

export default function Recommendations() {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState("");
  const items = props.items || [];

  async function onFeedback(item, kind) {
    setBusy(item.item_id);
    setError("");
    try {
      await callAction({
        name: "recbot_feedback",
        payload: { element_id: props.element_id, item_id: item.item_id, kind },
      });
    } catch (e) {
      setError("That didn't go through; please try again.");
    } finally {
      setBusy(null);
    }
  }

  return (
    <div data-testid="rec-list" className="flex flex-col gap-2 w-full">
      {items.map((item) => (
        <Card
          key={item.item_id}
          item={item}
          detail={props.detail}
          busy={busy !== null}
          onFeedback={onFeedback}
        />
      ))}
      {props.note ? <div className="text-sm text-muted-foreground">{props.note}</div> : null}
      {error ? <div className="text-sm text-destructive">{error}</div> : null}
    </div>
  );
}
