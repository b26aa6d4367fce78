"""What the rule-based simulated user says: message templates and the words for its attributes.

``T`` holds the sentences per message part (an opening, a rejection, one per attribute kind),
``POSTFIX`` how an attribute joins a noun phrase ("a dark film *from the 90s*"), ``MOOD_WORDS``
the words for each mood of :data:`agent.lexicon.MOODS` and ``ASKS`` what a clarifying question
asks about. The tables are written as ``"key: a | b"`` lines so variants read like a list.
"""

from __future__ import annotations


def _table(text: str) -> dict[str, tuple[str, ...]]:
    """``"key: a | b"`` lines (a key may repeat to continue) -> ``{"key": ("a", "b")}``; ``-``
    is the empty string."""
    table: dict[str, tuple[str, ...]] = {}
    for line in text.strip().splitlines():
        key, _, rest = line.partition(":")
        parts = tuple("" if p.strip() == "-" else p.strip() for p in rest.split("|"))
        table[key.strip()] = table.get(key.strip(), ()) + parts
    return table


T = _table("""
opening: Can you recommend {np}? | I'm in the mood for {np}. | Looking for {np} tonight.
opening: Any ideas for {np}? | Help me find {np}. | I'd love to watch {np}. | Hi! I'm after {np}.
opening: Recommend me {np}, please. | Movie night! I want {np}. | Got any suggestions for {np}?
reject: None of those, sorry. | Not quite. | Hmm, those aren't what I'm after. | Close, but no.
reject: Nope, none of these. | Those don't grab me. | Not really, no. | I'd pass on those.
reject: Not what I have in mind.
clarify: Sure. | Hmm, | Good question. | Well, | Let me think. | -
nudge: Could you suggest a few? | Any suggestions? | Show me some options. | -
restate: Again, {np}, please. | To sum up: {np}. | Just {np}, really. | Still after {np}.
accept: That's the one, thanks! | Perfect, exactly what I wanted. | Yes! That one.
accept: Great pick, I'll watch that. | Oh nice, that's the one I was thinking of.
genre: I'm in the mood for {a} film. | Ideally {a} movie. | Make that {a} movie. | {X}, ideally.
genre: Something in the {x} department.
genre2: Some {x} in the mix would be nice. | Ideally with a bit of {x} too. | Some {x} too, ideally.
era: Something {x} would be great. | Ideally a movie {x}. | I'd prefer something {x}.
era2: More precisely, something {x}. | Probably a film {x}. | I'm thinking something {x}.
mood: Something {x}, please. | I want something {x}. | I'm in the mood for something {x}.
mood: Make the vibe {x}.
tag: Think {x}. | Bonus points for {x}. | Keywords that come to mind: {x}.
plot: The story involves {x}. | Something about {x}. | I'd love a plot with {x}.
similar: I loved {x}. | I really enjoyed {x}, so something in that spirit. | Think {x}.
similar: Something along the lines of {x}, please.
avoid: No {x}, please. | Please, no {x} this time. | And no {x}.
""")
POSTFIX = {"genre2": "with some {x}", "era": "{x}", "tag": "with a {x} feel", "plot": "about {x}"}
POSTFIX |= {"avoid": "and no {x}", "similar": "like {x}"}  # in this order, "like" last
MOOD_WORDS = _table("""
dark: dark | gritty | bleak
depressing: sad | heartbreaking | tragic
light: feel-good | uplifting | lighthearted | heartwarming
funny: funny | hilarious | witty
scary: scary | creepy | spooky
romantic: romantic
exciting: exciting | action-packed | gripping | thrilling
thoughtful: thought-provoking | mind-bending | clever
relaxing: cozy | relaxing | gentle
violent: brutal | bloody | violent
""")
# What a clarifying question asks about, as regex alternatives over the question's words.
ASKS = {
    kind: "|".join(cues)
    for kind, cues in _table(r"""
genre: genre | kind of | type of | sort of
genre2: genre
era: year | era | decade | old | new | recent | when | period
era2: year | era | decade | period
mood: mood | feel | vibe | tone
similar: similar | loved | liked | enjoyed | favou?rite | film you | movie you
plot: about | plot | story | describe | theme
tag: describe | vibe | theme
avoid: avoid | don.?t want | rule out | not in the mood
""").items()
}
# A genre as an adjective ("an animated movie"), a noun ("some animation") and a thing to avoid.
GENRE_FORMS = {"Animation": ("animated", "animation", "animation"), "Film-Noir": ("noir",) * 3}
GENRE_FORMS |= {"Children": ("family", "family fun", "kids' movies"), "Sci-Fi": ("sci-fi",) * 3}


def with_article(phrase: str) -> str:
    """The phrase after its indefinite article: "an animated film", "a dark movie"."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def genre_phrase(genre: str, form: int = 0) -> str:
    """A genre as people say it: 0 adjective, 1 noun, 2 thing to avoid."""
    return GENRE_FORMS.get(genre, (genre.lower(),) * 3)[form]
