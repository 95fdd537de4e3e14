"""The demo world, one for both sides: core's demo data (`manage.py seed_demo`) and the Telegram sandbox's demo
(tgsandbox/seed.py) are built from these lists, so the same people, with the same Telegram ids and
@usernames, are in the same groups on both, and what they said before the first command is known to core.

Plain data: no Django, so the sandbox (which imports nothing from Django) reads it too.
"""

from dataclasses import dataclass, field

# The bot role's development default (config/settings/bot.py): its Telegram id is the number before the colon.
BOT_TOKEN = "123456:sandbox-token"  # noqa: S105 - a fake, local-only token
BOT_USERNAME = "sandbox_mod_bot"
BOT_NAME = "Sandbox Moderator"


@dataclass(frozen=True)
class Person:
    login: str  # core's username
    telegram_id: int
    first_name: str
    last_name: str | None
    telegram_username: str

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class Group:
    telegram_chat_id: int
    title: str
    type: str  # supergroup or group
    owner: str  # a Person's login
    admins: tuple[str, ...] = ()  # Telegram administrators besides the owner
    members: tuple[str, ...] = ()  # plain members
    roles: dict[str, str] = field(default_factory=dict)  # login -> core role in this group
    username: str | None = None
    description: str | None = None


PEOPLE = [
    Person("alice", 2000001, "Alice", "Owner", "alice"),
    Person("bob", 2000002, "Bob", "Admin", "bob_mod"),
    Person("carol", 2000003, "Carol", None, "carol"),
    Person("dave", 2000004, "Dave", None, "dave"),
    Person("spammer", 2000005, "Spam", "Bot", "spammer"),
]
PERSON = {person.login: person for person in PEOPLE}

# Telegram's own ids: the sandbox's first supergroup and first basic group get exactly these.
GROUPS = [
    Group(-1002000000001, "Sandbox Group", "supergroup", owner="alice", admins=("bob",),
          members=("carol", "dave", "spammer"), roles={"alice": "owner", "bob": "admin", "carol": "moderator"},
          username="sandbox_group", description="A supergroup to try the moderation bot in."),
    Group(-4000000001, "Basic Group", "group", owner="alice", members=("carol",),
          roles={"alice": "owner", "carol": "moderator"}),
]

# Platform-wide grants in core (they apply in every group): bob may open the dashboard and /admin_dashboard.
GLOBAL_ROLES = {"bob": "admin"}

# What was said before anyone's first command: (group title, login, text). Core has it as events, so it knows
# every speaker's @username; in the sandbox it is the chats' history, so a command can reply to one of them.
HISTORY = [
    ("Sandbox Group", "alice", "Welcome to the Sandbox Group! Be kind, stay on topic."),
    ("Sandbox Group", "bob", "Hi all, I help alice keep things tidy here."),
    ("Sandbox Group", "carol", "Hello! Carol here, I moderate too."),
    ("Sandbox Group", "dave", "hey everyone, first time here"),
    ("Sandbox Group", "spammer", "FREE CRYPTO!!! Double your coins, DM me now"),
    ("Sandbox Group", "spammer", "FREE CRYPTO!!! Only today, DM me now"),
    ("Basic Group", "carol", "Anyone reading something good lately?"),
]
