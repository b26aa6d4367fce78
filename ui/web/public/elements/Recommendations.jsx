// recbot's recommendation cards. Chainlit injects `props` globally (see ui/cards.py for the
// shape) and `callAction`; a click sends the feedback to `@cl.action_callback("recbot_feedback")`,
// which updates this element's props on the server (a rejected item is replaced in place).
import { useState } from "react";
import { Check, ThumbsDown, ThumbsUp } from "lucide-react";

// Icons rather than emoji, so the buttons render on machines without an emoji font. These are
// the only feedback buttons (Chainlit's per-message thumbs are hidden in recbot.css).
const BUTTONS = [
  { kind: "liked", Icon: ThumbsUp, title: "Like", hint: "more like this" },
  { kind: "rejected", Icon: ThumbsDown, title: "Not for me", hint: "show another instead" },
  { kind: "seen", Icon: Check, title: "Seen it", hint: "show another instead" },
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
          {BUTTONS.map((b) => {
            // a like is a state: the button shows it pressed (never dimmed), and a second
            // click changes nothing
            const selected = liked && b.kind === "liked";
            return (
              <button
                key={b.kind}
                type="button"
                title={selected ? "Liked: you'll get more like this" : `${b.title}: ${b.hint}`}
                aria-label={`${b.title}: ${item.title}, ${b.hint}`}
                aria-pressed={b.kind === "liked" ? selected : undefined}
                aria-busy={busy || undefined}
                data-testid={`rec-${b.kind}`}
                data-selected={selected ? "true" : "false"}
                onClick={() => (busy || selected ? null : onFeedback(item, b.kind))}
                className={
                  "recbot-btn rounded-md border p-1.5 " +
                  (selected
                    ? "recbot-btn-selected bg-primary text-primary-foreground border-primary"
                    : "border-border hover:bg-accent")
                }
              >
                <b.Icon className="h-4 w-4" aria-hidden="true" fill={selected ? "currentColor" : "none"} />
              </button>
            );
          })}
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
      const result = await callAction({
        name: "recbot_feedback",
        payload: { element_id: props.element_id, item_id: item.item_id, kind },
      });
      if (result && result.response && result.response.ok === false) {
        setError(result.response.error || "That didn't go through; please try again.");
      }
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
      {error ? <div role="alert" className="text-sm text-destructive">{error}</div> : null}
    </div>
  );
}
