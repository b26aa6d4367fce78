"""The cue phrases of the offline planner: words that say what the mentions after them mean.

"no horror" excludes a genre, "loved Inception" likes a title, "seen the first one" marks an
item seen. Phrases are lowercase and written as people type them; the planner normalises them
the way it normalises messages. Genre and mood phrases are the lexicon's
(:mod:`agent.lexicon`); these are the words around them.
"""

from __future__ import annotations

from agent.planner.words import word_set

# What a phrase does to the mentions after it in its clause (see agent.planner.walk):
# neg/dislike exclude, pos/similar/want include (pos and similar differ for shown items:
# "liked the 2nd" vs "more like the 2nd"), seen marks seen, drop forgets, break ends the clause,
# neutral ("than") mentions without wanting, question is transparent.
CUE_PHRASES: dict[str, str] = {
    "neg": "no|not|without|less|fewer|nothing|none|never|avoid|avoiding|skip|except|excluding"
    "|exclude|minus|anything but|everything but|instead of"
    "|rather than|don't want|do not want|don't wanna|don't need|no more|enough with"
    "|enough of|tired of|sick of|fed up with|stay away from|steer clear of|too|not too"
    "|nothing too|nothing with|nothing that|not a|not an|not any|isn't|aren't|doesn't|don't"
    "|didn't|won't|can't|neither|nor|hardly|zero|lay off",
    "dislike": "hate|hated|hates|dislike|disliked|didn't like|did not like|don't like"
    "|do not like|can't stand|cannot stand|couldn't stand|not a fan of|wasn't a fan of"
    "|not a big fan of|not into|wasn't into|didn't enjoy|did not enjoy|not keen on|bored me"
    "|couldn't get into",
    "pos": "liked|loved|love|loves|enjoyed|enjoy|adore|adored|fan of|big fan of|huge fan of"
    "|i like|i really like|we like|really liked|really loved|my favorite|my favourite"
    "|favorite|favourite|i'm into|really into|obsessed with|grew up with|dig",
    "similar": "like|similar to|something like|anything like|stuff like|movies like|films like"
    "|ones like|more like|kind of like|sort of like|in the vein of|along the lines of"
    "|reminds me of|reminiscent of|in the style of|same vibe as|the same vibe as|same as"
    "|as good as|such as|as|a la|comparable to|just like|more of|akin to|similar",
    "want": "want|wanna|i'd like|would like|i would like|feel like|in the mood for"
    "|looking for|prefer|preferably|ideally|rather|instead|maybe|perhaps|just|only|more"
    "|actually|also|don't mind|do not mind|wouldn't mind|nothing against|nothing but"
    "|okay with|ok with|fine with|happy with|open to|up for|need|give me|show me|recommend"
    "|suggest|plus",
    "seen": "seen|saw|watched|already seen|already watched|already saw|i've seen"
    "|i have seen|i've watched|i have watched|i saw|i watched|have seen",
    "drop": "forget|forget about|never mind|nevermind|drop|ignore|scratch|remove|disregard"
    "|doesn't have to be|does not have to be|doesn't need to be|don't need it to be"
    "|not necessarily|don't care about|do not care about|no need for|get rid of|lose the",
    "drop_all": "start over|start again|start fresh|restart|reset|from scratch"
    "|forget everything|forget all that|forget all of that|forget it all|clear everything"
    "|clear all|new search|never mind all that|something completely different"
    "|something totally different|let's start over",
    # "outside of X and Y": X's kind of film, none of X's series (titles); else excluded
    "outside": "outside of|other than|anything other than|apart from|aside from|besides|beyond",
    "break": "but|though|although|however|whereas|yet",
    "neutral": "than|unlike",
    "question": "tell me about|tell me more about|more about|about|what is|what's|is|was|are"
    "|does|who is in|who's in|who stars in|who directed|who made|how long is|info on"
    "|information on|details on|what about|how about",
    "surprise": "surprise me|whatever|you pick|you choose|you decide|your call|your choice"
    "|dealer's choice|random|randomly|anything is fine|anything works|anything goes"
    "|up for anything|open to anything|no preference|no preferences|don't care|i don't care"
    "|anything at all|whatever you want|whatever you like|i'm easy|no idea",
    "again": "something else|anything else|show me more|more please|more options"
    "|more suggestions|other options|others|different ones|another one|another|next"
    "|give me more|any others|what else|nope|nah|none of these work",
    "smalltalk": "hi|hello|hey|hiya|howdy|yo|greetings|good morning|good afternoon"
    "|good evening|thanks|thank you|thx|ty|cheers|much appreciated|appreciate it|who are you"
    "|what are you|what can you do|what do you do|how are you|how are you doing|how's it going"
    "|what's up|sup|bye|goodbye|see you|see ya|good night|ok|okay|cool|nice|great|awesome"
    "|perfect|lol|haha|sure|yes|yeah|yep|help",
}
# Cues a title may follow directly: a plain title ("Up") after one of these may count.
TITLE_CUE_KINDS = frozenset(
    {"neg", "dislike", "pos", "similar", "seen", "drop", "neutral", "outside"}
)
TITLE_CUE_QUESTIONS = frozenset({"tell me about", "tell me more about", "more about", "about"})
# Cues that apply to what came before them in the clause ("the second one looks good").
TRAILING_CUES: dict[str, str] = {
    "looks good": "pos",
    "looks great": "pos",
    "sounds good": "pos",
    "sounds great": "pos",
    "looks interesting": "pos",
    "sounds interesting": "pos",
    "is perfect": "pos",
    "doesn't matter": "drop",
    "does not matter": "drop",
    "don't matter": "drop",
    "is not important": "drop",
    "isn't important": "drop",
    "not important": "drop",
    # what the person cannot take: "I scare easily", "horror scares me", "gore freaks me out"
    "easily": "neg",
    "scares me": "neg",
    "scare me": "neg",
    "freaks me out": "neg",
    "freak me out": "neg",
    "is too much for me": "neg",
    "are too much for me": "neg",
}
# Cues a title the catalog lacks may follow ("loved X", "hated X", "more like X"), and cues
# that start a new statement, ending such a title ("loved X And Hated Y").
UNKNOWN_TITLE_CUE_KINDS = frozenset({"pos", "dislike", "similar", "outside"})
# Words after a title that make it a series: "not a Matrix sequel", "no more Star Wars films".
SERIES_WORDS = word_set(
    "sequel sequels prequel prequels franchise series saga trilogy installment installments"
    " movie movies film films one ones entry entries spinoff spinoffs"
)
STATEMENT_CUE_KINDS = frozenset({"pos", "dislike", "seen", "break", "drop", "drop_all"})
