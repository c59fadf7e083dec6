#!/usr/bin/env python3
"""Simulates labelled whisper (direct message) traffic for the sender tracker and the whisper
model. Standard library only; the same seed gives the same stream.

Output: TSV with a header row
    time  sender  recipient  account_age_days  first_contact  text  label
sorted by time (whole seconds from the start of the stream); `first_contact` is 1 when the
recipient neither follows nor has talked with the sender before; `label` is `spam` or `ham`.

Assumptions (what the stream is, and is not):

* Ordinary users (ids 1..) have accounts mostly months or years old (log-normal, median
  ~300 days; ~8% are under a week old). Each has 1-5 friends.
* Friends chat in sessions of 2-14 lines, alternating sides with pauses of 3-90 s, drawn from
  a few hundred casual lines; first_contact is 0.
* Conversations with strangers: someone opens with a greeting or question (first_contact 1),
  the other side answers half the time, and a short exchange may follow (first_contact 0).
* One-off greetings: some users greet 1-3 new people within minutes (after a match, a trade),
  each greeting drawn independently from ~25 phrasings, so a user may repeat one. This is the
  honest source of ordinary near-duplicate fan-out.
* Bots (ids 100000..) are new accounts (0-3 days) that send one template, or two, to 8-40
  strangers, one every 2-40 s, all first_contact 1. Templates vary per recipient: a counter
  or random number, the recipient's name, a link suffix, emoji, letter case, leetspeak in one
  word, a word or two from a small synonym set.
* Compromised accounts are ordinary old accounts: ordinary traffic first, then at a random
  moment a burst of one spam template to their friends (first_contact 0) and strangers
  (first_contact 1). Only the burst lines are labelled spam.
* Announcements (only with --announce-share above 0, the default being 0 so that streams made
  before the option existed are unchanged): that share of ordinary users once sends one line
  to 2-5 of their friends within a minute or two (a raid time, a stream going live, a guide),
  the same words each time or with the friend's name. This is the honest source of
  near-duplicate fan-out from old accounts to people they know.
* Not modelled: bots that pace themselves below any window, bots that write each message
  by hand or with a language model, replies to spam, group chats, several languages.
"""

import argparse
import random
import sys

NAMES = """anna ben carla dmitri eve farid gina hugo ines jonas kira leo maya nils olga pavel
quinn rosa sami tara ugo vera wes xena yusuf zoe alex bea chris dana emil fay""".split()

CASUAL = [
    "lol", "haha yes", "ok", "sure", "no way", "brb", "gg", "nice", "same", "omg",
    "are you on tonight?", "did you see the patch notes", "that boss is impossible",
    "my cat just knocked over the router", "send me the link to the guide",
    "i'll be back in 10", "want to queue again tomorrow?", "that was so bad lol",
    "can you carry me through the dungeon", "i got the drop finally!!",
    "how was work", "dinner then back on", "wait what happened", "who was that guy",
    "the new map is great", "i hate this season's meta", "did you finish the quest",
    "thanks for the help earlier", "no worries", "see you later", "good night",
    "morning!", "what rank are you now", "i'm stuck at gold again", "let's try a different build",
    "that stream yesterday was hilarious", "can't tonight, exam tomorrow", "how's your sister",
    "did you get my message", "i sent you the screenshot", "lmao look at this",
    "we should do the raid on saturday", "who else is coming", "bring potions",
    "my internet is dying", "restart the game", "it's fixed now", "cool", "yep", "nope",
    "what time is it there", "it's 3am here lol", "go to sleep", "you go to sleep",
    "happy birthday!!", "thank youuu", "congrats on the promotion", "that's awesome",
    "i'm so tired", "same honestly", "what are you playing", "trying the new shooter",
    "is it any good", "kinda, the movement is fun", "the servers are lagging again",
    "report that guy", "already did", "ty", "np", "ok see you in 5", "ready?",
    "one sec", "inviting you now", "accept the invite", "done", "let's go",
]

GREETINGS = [
    "hi", "hey", "hello", "hey! gg", "gg wp", "hey, good game", "hi, nice playing with you",
    "hey want to team up again?", "hello! you were great in that match",
    "hi, are you still selling the sword?", "hey, saw your post about the guild",
    "hi there", "yo", "hey, add me back?", "hey, want to duo?", "hello, quick question",
    "hi! is the trade still open?", "hey, are you from the forum?", "sup",
    "hey, thanks for the revive", "hello friend", "hi, do you speak english?",
    "hey, nice build", "hi, can i join your group?", "hey there, new here",
]

QUESTIONS = [
    "do you know how to beat the last boss?", "where do you farm gold?",
    "is the guild still recruiting?", "how much for the mount?",
    "can you help me with the quest?", "what server are you on?",
]

ANNOUNCEMENTS = [
    "raid starts at 9, bring potions", "{name} raid at 9 tonight, you in?",
    "going live in 5 min, come hang out", "stream is up! twitch.tv/{me}",
    "anyone up for ranked tonight?", "new guide is up, link in my profile",
    "guild meeting saturday 8pm", "{name}! the event started, log in",
    "server maintenance at midnight, finish your runs", "i'm selling my old gear cheap, ask me",
]

ANSWERS = [
    "sure", "sorry, busy", "yeah, what's up?", "hi!", "who is this?", "maybe later",
    "ok add me", "sure, give me 5 min", "no sorry", "yes still open",
]

SPAM_TEMPLATES = [
    "buy cheap followers at {link} {n}",
    "hey {name}! you won a free skin, claim it at {link}",
    "{greet} {name}, free {currency} generator here {link} {emoji}",
    "get {n} free {currency} now at {link}",
    "{greet}! i'm selling accounts cheap, check {link}",
    "limited offer: {n} {currency} for only ${price} at {link}",
    "hey {name} check out my stream {link} {emoji}",
    "{greet} {name}, you have been selected for a giveaway, visit {link}",
    "earn ${price} a day from home, message me or visit {link}",
    "hot singles in your area {emoji} {link}",
]
SPAM_FILL = {
    "greet": ["hey", "hi", "hello", "yo"],
    "currency": ["gems", "coins", "vbucks", "gold"],
    "emoji": ["🔥", "💰", "🎁", "😍", "✅", ""],
}
LINK_BASES = ["x.com", "free-gems.net", "gift-skins.io", "bit.ly", "cheapfollow.org"]
LEET = str.maketrans({"o": "0", "e": "3", "a": "4", "i": "1"})


def spam_text(rng, template, base, recipient_name):
    text = template.format(
        link=f"{base}/{rng.choice('abcdefghijk')}{rng.randint(1, 99)}",
        n=rng.choice([100, 500, 1000, 5000, rng.randint(1, 9999)]),
        name=recipient_name,
        price=rng.choice([1, 5, 9, 10, 99]),
        greet=rng.choice(SPAM_FILL["greet"]),
        currency=rng.choice(SPAM_FILL["currency"]),
        emoji=rng.choice(SPAM_FILL["emoji"]),
    )
    r = rng.random()
    if r < 0.15:
        text = text.upper()
    elif r < 0.3:
        words = text.split()
        i = rng.randrange(len(words))
        words[i] = words[i].translate(LEET)
        text = " ".join(words)
    return text.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--bots", type=int, default=40)
    ap.add_argument("--compromised", type=int, default=10)
    ap.add_argument("--hours", type=float, default=3.0)
    ap.add_argument("--announce-share", type=float, default=0.0,
                    help="share of ordinary users who once send one line to 2-5 friends")
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    span = int(args.hours * 3600)
    lines = []  # (time, sender, recipient, text, label)

    users = list(range(1, args.users + 1))
    age = {}
    for u in users:
        age[u] = rng.randint(0, 6) if rng.random() < 0.08 else int(min(4000, rng.lognormvariate(5.7, 1.0)))
    name = {u: rng.choice(NAMES) for u in users}
    friends = {u: set() for u in users}
    for u in users:
        for v in rng.sample(users, rng.randint(1, 5)):
            if v != u:
                friends[u].add(v)
                friends[v].add(u)

    def emit(t, s, r, text, label):
        lines.append((t, s, r, text, label))

    # Friends' sessions.
    for u in users:
        for _ in range(rng.randint(0, 3)):
            if not friends[u]:
                break
            v = rng.choice(sorted(friends[u]))
            t = rng.randint(0, span)
            a, b = u, v
            for _ in range(rng.randint(2, 14)):
                emit(t, a, b, rng.choice(CASUAL), "ham")
                t += rng.randint(3, 90)
                if rng.random() < 0.75:
                    a, b = b, a

    # Strangers: an opener, maybe an answer and a short exchange.
    for u in users:
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            v = rng.choice(users)
            if v == u or v in friends[u]:
                continue
            t = rng.randint(0, span)
            emit(t, u, v, rng.choice(GREETINGS + QUESTIONS), "ham")
            if rng.random() < 0.5:
                t += rng.randint(5, 120)
                emit(t, v, u, rng.choice(ANSWERS), "ham")
                a, b = u, v
                for _ in range(rng.randint(0, 4)):
                    t += rng.randint(5, 60)
                    emit(t, a, b, rng.choice(CASUAL), "ham")
                    a, b = b, a

    # One-off greetings to a few new people within minutes.
    for u in rng.sample(users, len(users) // 3):
        t = rng.randint(0, span)
        for v in rng.sample(users, rng.randint(1, 3)):
            if v != u and v not in friends[u]:
                emit(t, u, v, rng.choice(GREETINGS), "ham")
                t += rng.randint(10, 300)

    # Bots: young accounts fanning out a template or two to strangers.
    for i in range(args.bots):
        bot = 100_000 + i
        age[bot] = rng.randint(0, 3)
        templates = rng.sample(SPAM_TEMPLATES, rng.choice([1, 1, 2]))
        base = rng.choice(LINK_BASES)
        t = rng.randint(0, span - 1800)
        for v in rng.sample(users, rng.randint(8, 40)):
            emit(t, bot, v, spam_text(rng, rng.choice(templates), base, name[v]), "spam")
            t += rng.randint(2, 40)

    # Compromised old accounts: ordinary so far, then a burst to friends and strangers.
    for u in rng.sample([u for u in users if age[u] > 90], args.compromised):
        template = rng.choice(SPAM_TEMPLATES)
        base = rng.choice(LINK_BASES)
        t = rng.randint(span // 3, span - 1800)
        targets = sorted(friends[u]) + rng.sample(users, rng.randint(5, 20))
        seen = set()
        for v in targets:
            if v == u or v in seen:
                continue
            seen.add(v)
            emit(t, u, v, spam_text(rng, template, base, name[v]), "spam")
            t += rng.randint(3, 30)

    # Announcements: one line to several friends, after every other draw so that a share of
    # 0 leaves the rest of the stream as it was.
    if args.announce_share > 0:
        for u in rng.sample(users, int(round(args.announce_share * len(users)))):
            text = rng.choice(ANNOUNCEMENTS)
            t = rng.randint(0, span - 600)
            pool = sorted(friends[u])
            for v in rng.sample(pool, min(len(pool), rng.randint(2, 5))):
                emit(t, u, v, text.format(name=name[v], me=name[u]), "ham")
                t += rng.randint(5, 40)

    lines.sort(key=lambda l: (l[0], l[1], l[2]))
    talked = set()  # (sender, recipient) pairs with earlier contact in either direction
    for u in users:
        for v in friends[u]:
            talked.add((u, v))
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    out.write("time\tsender\trecipient\taccount_age_days\tfirst_contact\ttext\tlabel\n")
    for t, s, r, text, label in lines:
        first = 0 if (s, r) in talked or (r, s) in talked else 1
        talked.add((s, r))
        assert "\t" not in text and "\n" not in text
        out.write(f"{t}\t{s}\t{r}\t{age[s]}\t{first}\t{text}\t{label}\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
