"""What the rule-based simulated user says: its own sentences and words, written apart from the agent.

Nothing here comes from the agent's planner or lexicon (an import-linter contract keeps it so):
``T`` holds several ways to say each message part, ``TERSE`` the one-liners of a terse user,
``POSTFIX`` how an attribute joins a noun phrase ("a grim film *from the 90s*"), ``MOODS`` the
simulator's own moods — the tag and genre words that carry each one and the words people use for
it — and ``ASKS`` what a question in the agent's reply asks about. Tables are ``"key: a | b"``
lines so variants read like a list. :func:`typo` puts a slip of the finger into a message.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


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
opening: hey, what should I watch? thinking {np} | Long week. I need {np}.
opening: My partner and I want {np} tonight, any tips? | so... {np}? what have you got
opening: I feel like {np}. | Could you point me to {np}? | need {np} asap lol
reject: None of those, sorry. | Not quite. | Hmm, those aren't what I'm after. | Close, but no.
reject: Nope, none of these. | Those don't grab me. | Not really, no. | I'd pass on those.
reject: Not what I have in mind. | meh. | Nah, not feeling these. | Seen enough of that kind.
reject: Hmm, no. | Not those. | Doesn't ring a bell, and doesn't sound like it.
clarify: Sure. | Hmm, | Good question. | Well, | Let me think. | Oh, | Honestly, | -
nudge: Could you suggest a few? | Any suggestions? | Show me some options. | Just show me some.
nudge: What do you have? | -
restate: Again, {np}, please. | To sum up: {np}. | Just {np}, really. | Still after {np}.
restate: Like I said, {np}. | I'm really just after {np}.
accept: That's the one, thanks! | Perfect, exactly what I wanted. | Yes! That one.
accept: Great pick, I'll watch that. | Oh nice, that's the one I was thinking of.
leave: Forget it, thanks anyway. | I'll look somewhere else. | Never mind, bye.
leave: This isn't working, I'm out.
seen: I've seen {x} already. | Already watched {x}. | {x}? seen it.
genre: I'm in the mood for {a} film. | Ideally {a} movie. | Make that {a} movie. | {X}, ideally.
genre: Something in the {x} department. | It should be {a} one. | {X} would be good.
genre: preferably {a} flick
genre2: Some {x} in the mix would be nice. | Ideally with a bit of {x} too. | Some {x} too, ideally.
genre2: A touch of {x} wouldn't hurt.
era: Something {x} would be great. | Ideally a movie {x}. | I'd prefer something {x}.
era: Oh and {x} if possible.
era2: More precisely, something {x}. | Probably a film {x}. | I'm thinking something {x}.
mood: Something {x}, please. | I want something {x}. | I'm in the mood for something {x}.
mood: Make the vibe {x}. | Feeling like something {x}. | The mood: {x}.
tag: Think {x}. | Bonus points for {x}. | Keywords that come to mind: {x}.
tag: Something with {x}, maybe.
plot: The story involves {x}. | Something about {x}. | I'd love a plot with {x}.
similar: I loved {x}. | I really enjoyed {x}, so something in that spirit. | Think {x}.
similar: Something along the lines of {x}, please. | Last thing I loved was {x}.
avoid: No {x}, please. | Please, no {x} this time. | And no {x}. | Not in the mood for {x}.
avoid: Skip the {x}.
""")
# A terse user's whole message: the phrase and little else.
TERSE = _table("""
any: {x} | {x}. | {x} pls | just {x} | {x}?
reject: no | nope | nah | no.
accept: yes | that one | yep, thanks
leave: bye | forget it
nudge: ? | well?
""")
POSTFIX = {"genre2": "with some {x}", "era": "{x}", "tag": "with {x}", "plot": "about {x}"}
POSTFIX |= {"avoid": "and no {x}", "similar": "like {x}"}  # in this order, "like" last


@dataclass(frozen=True, slots=True)
class Mood:
    """One of the simulator's moods: the tag words and genres that carry it, and its words."""

    cues: frozenset[str]  # words of an item's tags that carry the mood
    genres: frozenset[str]  # genres that carry it a little
    words: tuple[str, ...]  # how a person says it


def _moods(text: str) -> dict[str, Mood]:
    """``"name: cue cue / Genre Genre / word | word"`` lines -> moods."""
    moods = {}
    for line in text.strip().splitlines():
        name, _, rest = line.partition(":")
        cues, genres, words = rest.split("/")
        moods[name.strip()] = Mood(
            frozenset(cues.split()),
            frozenset(genres.split()),
            tuple(w.strip() for w in words.split("|")),
        )
    return moods


MOODS = _moods("""
grim: dark bleak gritty grim disturbing noir depressing nihilism brutal / Film-Noir / grim | moody | kinda bleak | somber
sad: sad tearjerker melancholy melancholic tragedy tragic heartbreaking loss grief / Drama / sad | emotional | weepy | sad-ish
warm: heartwarming feel-good uplifting sweet cute touching friendship wholesome / Children / warm | wholesome | cheerful | cosy
laughs: funny hilarious comedy witty humor humorous parody satire quirky / Comedy / funny | silly | goofy | laugh-out-loud
fright: scary creepy horror suspense tense atmospheric haunted spooky / Horror / scary | creepy | spooky | freaky
love: romance romantic love relationships / Romance / romantic | swoony | lovey-dovey
thrill: action thrilling exciting adventure chase explosions fast-paced heist / Action Adventure Thriller / exciting | edge-of-your-seat | fast-paced | pulse-pounding
brainy: thought-provoking philosophical mindfuck cerebral intelligent twist complex surreal / Mystery Sci-Fi / smart | twisty | brainy | head-scratching
calm: relaxing calm slow beautiful visually gentle cinematography / Documentary / calm | chill | easygoing | slow-burning
""")
# What a question in the agent's reply asks about, as regex alternatives over its words.
ASKS = {
    kind: "|".join(cues)
    for kind, cues in _table(r"""
genre: genre | kind of | type of | sort of | what kind | which kind
genre2: genre | also | mix
era: year | era | decade | old | new | recent | when | period | older | classic
era2: year | era | decade | period
mood: mood | feel | vibe | tone | atmosphere
similar: similar | loved | liked | enjoyed | favou?rite | film you | movie you | example
plot: about | plot | story | describe | theme | subject
tag: describe | vibe | theme | anything else | more
avoid: avoid | don.?t want | rule out | not in the mood | skip
""").items()
}
# A genre as an adjective ("an animated movie"), a noun ("some animation") and a thing to avoid.
GENRE_FORMS = {"Animation": ("animated", "animation", "cartoons"), "Film-Noir": ("noir",) * 3}
GENRE_FORMS |= {"Children": ("family", "kid-friendly stuff", "kids' movies")}
GENRE_FORMS |= {"Sci-Fi": ("sci-fi", "science fiction", "sci-fi"), "Musical": ("musical",) * 3}
GENRE_FORMS |= {
    "Comedy": ("comedy", "comedy", "comedies"),
    "Drama": ("drama", "drama", "heavy dramas"),
}
GENRE_FORMS |= {"Horror": ("horror", "horror", "horror"), "War": ("war", "war", "war movies")}
GENRE_FORMS |= {"Documentary": ("documentary", "documentary", "documentaries")}
GENRE_FORMS |= {"Western": ("western", "western", "westerns")}


def with_article(phrase: str) -> str:
    """The phrase after its indefinite article: "an animated film", "a grim movie"."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def genre_phrase(genre: str, form: int = 0) -> str:
    """A genre as people say it: 0 adjective, 1 noun, 2 thing to avoid."""
    return GENRE_FORMS.get(genre, (genre.lower(),) * 3)[form]


def typo(text: str, rng: random.Random) -> str:
    """The text with one slip in one longer word: two letters swapped, one dropped or doubled."""
    words = list(re.finditer(r"\b[a-z]{5,}\b", text))  # never a capitalised name
    if not words:
        return text
    match = rng.choice(words)
    word, at = match.group(), rng.randrange(1, len(match.group()) - 2)
    slip = rng.choice(("swap", "drop", "double"))
    if slip == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif slip == "drop":
        word = word[:at] + word[at + 1 :]
    else:
        word = word[: at + 1] + word[at:]
    return text[: match.start()] + word + text[match.end() :]
