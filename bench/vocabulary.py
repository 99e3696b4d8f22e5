"""Words for generated events, ranked by how common they are (a Zipf-like distribution).

Campus words come first, so "club", "meeting" and "free" are the common terms a real
catalogue has; a generated long tail supplies the rare terms the benchmark also needs.
"""

import itertools

_HEAD_TEXT = """
club meeting free student students event night social food pizza study group welcome
campus community weekly general talk open workshop session lecture info new week join
game fair career research music team practice service volunteer show discussion night
art dance film screening speaker series panel networking coffee lunch dinner snacks
basketball soccer tennis volleyball football baseball swimming running yoga fitness
meditation wellness health mental support graduate undergraduate alumni faculty
professor seminar colloquium conference symposium hackathon coding python data science
engineering medicine law business finance economics biology chemistry physics math
history philosophy politics debate writing poetry reading book theater concert choir
orchestra jazz band acoustic open mic comedy improv trivia karaoke movie festival
cultural international language exchange chinese spanish french korean japanese indian
african latino asian heritage month celebration holiday halloween thanksgiving winter
spring fall summer break exam finals review tutoring office hours mentoring leadership
training certification first aid safety sustainability climate environment garden
recycling hike trip outdoor climbing kayak bike ride tour museum gallery exhibition
photography painting drawing pottery crafts knitting chess board games esports gaming
robotics startup entrepreneurship pitch competition award ceremony gala fundraiser
charity drive blood donation service day habitat tutoring kids youth outreach
religious fellowship bible prayer worship interfaith shabbat dinner iftar vigil
"""
HEAD_WORDS = _HEAD_TEXT.split()

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "vel",
    "sha",
    "quin",
    "dra",
    "mor",
    "pel",
    "zan",
    "thu",
    "bri",
    "ox",
    "nel",
    "ga",
    "fer",
    "lum",
    "sti",
    "cor",
    "wen",
    "ju",
    "pra",
]


def _long_tail(count: int) -> list[str]:
    words: list[str] = []
    for length in (2, 3, 4):
        for combination in itertools.product(SYLLABLES, repeat=length):
            words.append("".join(combination))
            if len(words) == count:
                return words
    return words


# The ten most frequent words of English prose lead the description vocabulary. The search
# configuration drops them as stop words, and they put "club" in about 40% of descriptions
# and "basketball" in 8%, instead of nearly all.
STOP_WORDS = ["the", "and", "a", "of", "to", "in", "for", "with", "on", "at"]


def ranked_words(tail_size: int = 20_000) -> list[str]:
    """Distinct words, most common first."""
    seen: set[str] = set()
    ordered = [w for w in HEAD_WORDS if not (w in seen or seen.add(w))]
    return ordered + [w for w in _long_tail(tail_size) if w not in seen]


def zipf_cumulative_weights(count: int, exponent: float = 1.0) -> list[float]:
    total = 0.0
    cumulative = []
    for rank in range(1, count + 1):
        total += 1.0 / rank**exponent
        cumulative.append(total)
    return cumulative
