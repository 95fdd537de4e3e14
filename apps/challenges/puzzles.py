"""The questions a joining member is asked. Pure: a puzzle is a question, its option labels, and the index of the
right one (kept by core, never sent)."""

import secrets
from dataclasses import dataclass

_random = secrets.SystemRandom()

BUTTON_LABEL = "I'm not a robot"
MATH_OPTIONS = 4
EMOJI_OPTIONS = 6

# (emoji, its name as the question says it): distinct at a glance.
EMOJI = (
    ("🐶", "dog"), ("🐱", "cat"), ("🍎", "apple"), ("🚗", "car"), ("⭐", "star"), ("🌙", "moon"), ("🔑", "key"),
    ("🎈", "balloon"), ("🐟", "fish"), ("🌵", "cactus"), ("🍌", "banana"), ("🚲", "bicycle"), ("🎸", "guitar"),
    ("🐢", "turtle"), ("⚽", "football"), ("🍄", "mushroom"), ("🔔", "bell"), ("🌻", "sunflower"),
)


@dataclass(frozen=True)
class Puzzle:
    question: str
    options: list[str]
    answer: int  # index into options


def button() -> Puzzle:
    return Puzzle(question="Press the button below to show you are human.", options=[BUTTON_LABEL], answer=0)


def math() -> Puzzle:
    first, second = _random.randint(1, 9), _random.randint(1, 9)
    total = first + second
    options = {total}
    while len(options) < MATH_OPTIONS:
        wrong = total + _random.choice([-3, -2, -1, 1, 2, 3])
        if wrong > 0:
            options.add(wrong)
    labels = [str(value) for value in options]
    _random.shuffle(labels)
    return Puzzle(question=f"What is {first} + {second}?", options=labels, answer=labels.index(str(total)))


def emoji() -> Puzzle:
    picked = _random.sample(EMOJI, EMOJI_OPTIONS)
    right = _random.randrange(EMOJI_OPTIONS)
    return Puzzle(question=f"Press the {picked[right][1]}.", options=[symbol for symbol, _name in picked],
                  answer=right)


MAKERS = {"button": button, "math": math, "emoji": emoji}


def make(mode: str) -> Puzzle:
    return MAKERS[mode]()
