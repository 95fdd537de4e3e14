"""Every kind of content a member can post, in the Bot API's JSON shape (checked against python-telegram-bot's
own parsing), captions and the entities Telegram detects in them, posts as a channel, forwards of each origin,
edits as edited_message, bots added by members, and the Bot API methods that send media by file_id."""

from __future__ import annotations

import asyncio

import pytest
import telegram

from tgsandbox.client import SandboxClient
from tgsandbox.errors import SandboxError

from .conftest import telegram_error


@pytest.fixture
def client(demo):
    with SandboxClient(demo.url) as control:
        yield control


def _last_update(demo) -> dict:
    return demo.world.bot().updates[-1]


def _ptb(demo, payload: dict) -> telegram.Message:
    """The message as python-telegram-bot reads it (a shape PTB cannot parse fails here)."""
    return telegram.Message.de_json(payload, demo.bot())


def _file_fields(obj: dict) -> None:
    assert isinstance(obj["file_id"], str) and len(obj["file_id"]) > 20
    assert isinstance(obj["file_unique_id"], str) and obj["file_unique_id"] != obj["file_id"]


def test_media_of_every_kind_arrives_as_telegram_sends_it(demo, client):
    sent = {kind: client.send_message("Sandbox Group", "carol", **{kind: True})
            for kind in ("photo", "video", "animation", "sticker", "audio", "voice", "video_note", "document")}

    photo = sent["photo"]["photo"]
    assert isinstance(photo, list) and len(photo) >= 2
    assert [p["width"] for p in photo] == sorted(p["width"] for p in photo)  # smallest first, as Telegram
    for size in photo:
        _file_fields(size)
        assert {"width", "height", "file_size"} <= set(size)
    assert len({p["file_id"] for p in photo}) == len(photo)
    assert "text" not in sent["photo"]

    gif = sent["animation"]
    _file_fields(gif["animation"])
    assert gif["document"]["file_id"] == gif["animation"]["file_id"]  # a gif is also its document
    assert gif["animation"]["mime_type"] == "video/mp4" and gif["animation"]["duration"] > 0
    sticker = sent["sticker"]["sticker"]
    assert sticker["type"] == "regular" and sticker["is_animated"] is False and sticker["is_video"] is False
    assert (sticker["width"], sticker["height"]) == (512, 512) and sticker["emoji"]
    assert {"duration", "performer", "title", "mime_type"} <= set(sent["audio"]["audio"])
    assert sent["voice"]["voice"]["mime_type"] == "audio/ogg"
    assert {"length", "duration", "thumbnail"} <= set(sent["video_note"]["video_note"])
    assert {"width", "height", "duration", "mime_type", "thumbnail"} <= set(sent["video"]["video"])
    assert {"file_name", "mime_type", "file_size"} <= set(sent["document"]["document"])

    updates = demo.world.bot().updates[-8:]
    assert [u["message"]["message_id"] for u in updates] == [m["message_id"] for m in sent.values()]
    parsed = {kind: _ptb(demo, update["message"]) for kind, update in zip(sent, updates, strict=True)}
    assert isinstance(parsed["photo"].effective_attachment, tuple)
    assert parsed["photo"].photo[-1].width == 1280
    assert isinstance(parsed["animation"].effective_attachment, telegram.Animation)
    assert parsed["animation"].document.file_id == parsed["animation"].animation.file_id
    assert isinstance(parsed["sticker"].effective_attachment, telegram.Sticker)
    assert isinstance(parsed["audio"].effective_attachment, telegram.Audio)
    assert isinstance(parsed["voice"].effective_attachment, telegram.Voice)
    assert isinstance(parsed["video_note"].effective_attachment, telegram.VideoNote)
    assert isinstance(parsed["video"].effective_attachment, telegram.Video)
    assert isinstance(parsed["document"].effective_attachment, telegram.Document)

    # Overrides, and posting a known file again by its file_id (a sticker from the same set, say).
    again = client.send_message("Sandbox Group", "dave", sticker=sticker["file_id"])
    assert again["sticker"] == sticker
    custom = client.send_message("Sandbox Group", "dave", sticker={"is_animated": True, "emoji": "🔥"})
    assert custom["sticker"]["is_animated"] is True and custom["sticker"]["emoji"] == "🔥"
    with pytest.raises(SandboxError, match="is a sticker, not a photo"):
        client.send_message("Sandbox Group", "dave", photo=sticker["file_id"])
    with pytest.raises(SandboxError, match="unknown file_id"):
        client.send_message("Sandbox Group", "dave", document="BQACnothing")


def test_polls_contacts_places_games_and_dice(demo, client):
    poll = client.send_message("Sandbox Group", "carol", poll={"question": "Lunch?", "options": ["pizza", "salad"]})
    assert poll["poll"]["question"] == "Lunch?" and poll["poll"]["type"] == "regular"
    assert [o["text"] for o in poll["poll"]["options"]] == ["pizza", "salad"]
    assert poll["poll"]["options"][0]["voter_count"] == 0 and poll["poll"]["is_anonymous"] is True
    quiz = client.send_message("Sandbox Group", "carol", poll={"question": "2+2?", "options": ["3", "4"],
                                                               "type": "quiz", "correct_option_id": 1})
    assert quiz["poll"]["correct_option_ids"] == [1]
    first, second = (o["persistent_id"] for o in poll["poll"]["options"])
    assert first and second and first != second
    contact = client.send_message("Sandbox Group", "carol", contact={"phone_number": "+15550100999",
                                                                     "first_name": "Zed"})
    assert contact["contact"] == {"phone_number": "+15550100999", "first_name": "Zed"}
    location = client.send_message("Sandbox Group", "carol", location={"latitude": 51.5, "longitude": -0.12})
    assert location["location"] == {"latitude": 51.5, "longitude": -0.12}
    venue = client.send_message("Sandbox Group", "carol", venue={"title": "Café", "address": "1 High St",
                                                                 "latitude": 1.5, "longitude": 2.5})
    assert venue["venue"]["title"] == "Café" and venue["venue"]["location"] == {"latitude": 1.5, "longitude": 2.5}
    assert venue["location"] == venue["venue"]["location"]  # Telegram fills location for a venue too
    game = client.send_message("Sandbox Group", "carol", game={"title": "Racer"}, via_bot="sandbox_mod_bot")
    assert game["game"]["title"] == "Racer" and isinstance(game["game"]["photo"], list)
    dice = client.send_message("Sandbox Group", "carol", dice={"emoji": "🎯"})
    assert dice["dice"]["emoji"] == "🎯" and 1 <= dice["dice"]["value"] <= 6

    for sent in (poll, quiz, contact, location, venue, game, dice):
        parsed = _ptb(demo, sent)
        assert parsed.effective_attachment is not None
    assert _ptb(demo, venue).venue.title == "Café"

    with pytest.raises(SandboxError, match="one kind of content"):
        client.send_message("Sandbox Group", "carol", photo=True, dice={})
    with pytest.raises(SandboxError, match="2-12 options"):
        client.send_message("Sandbox Group", "carol", poll={"question": "?", "options": ["only"]})
    with pytest.raises(SandboxError, match="dice value"):
        client.send_message("Sandbox Group", "carol", dice={"emoji": "🏀", "value": 6})
    with pytest.raises(SandboxError, match="has no caption"):
        client.send_message("Sandbox Group", "carol", sticker=True, caption="hi")
    with pytest.raises(SandboxError, match="unknown message fields: colour"):
        demo.world.send_message("Sandbox Group", "carol", "hi", content={"colour": "red"})


def test_entities_are_detected_in_text_and_captions_as_telegram_does(client):
    text = ("/rules@sandbox_mod_bot ask @carol_x #help $USD at bob@example.org, +1 555 010 0123, "
            "https://example.com/a example.org/x t.me/+AbCdEf tg://join?invite=xyz")
    sent = client.send_message("Sandbox Group", "carol", text)

    def pieces(body: str, entities: list[dict]) -> list[tuple[str, str]]:
        return [(e["type"], body[e["offset"]:e["offset"] + e["length"]]) for e in entities]

    assert pieces(sent["text"], sent["entities"]) == [
        ("bot_command", "/rules@sandbox_mod_bot"), ("mention", "@carol_x"), ("hashtag", "#help"),
        ("cashtag", "$USD"), ("email", "bob@example.org"), ("phone_number", "+1 555 010 0123"),
        ("url", "https://example.com/a"), ("url", "example.org/x"), ("url", "t.me/+AbCdEf"),
        ("url", "tg://join?invite=xyz")]
    assert "entities" not in client.send_message("Sandbox Group", "carol", "version 3.14 of file.txt")

    # A caption: parse_mode links (text_link) and custom emoji given by the sender, the rest detected.
    photo = client.send_message("Sandbox Group", "carol", photo=True, parse_mode="HTML",
                                caption='<a href="https://spam.example">deal</a> '
                                        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> at www.shop.io')
    assert photo["caption"] == "deal 👍 at www.shop.io"
    kinds = [(e["type"], e.get("url") or e.get("custom_emoji_id")) for e in photo["caption_entities"]]
    assert kinds == [("text_link", "https://spam.example"), ("custom_emoji", "5368324170671202286"),
                     ("url", None)]
    # Entities given as a list (how clients send them): offsets in UTF-16 units.
    emoji = client.send_message("Sandbox Group", "carol", "😀😀", entities=[
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "1"},
        {"type": "custom_emoji", "offset": 2, "length": 2, "custom_emoji_id": "2"}])
    assert [e["offset"] for e in emoji["entities"]] == [0, 2]
    with pytest.raises(SandboxError, match="caption needs media"):
        client.send_message("Sandbox Group", "carol", "hi", caption="x")
    with pytest.raises(SandboxError, match="has no text"):
        client.send_message("Sandbox Group", "carol", "hi", photo=True)


def test_inline_results_and_buttons_come_via_a_bot(demo, client):
    client.create_bot("777001:helper", "gif_helper_bot")
    keyboard = {"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]}
    sent = client.send_message("Sandbox Group", "carol", "found it", via_bot="gif_helper_bot", reply_markup=keyboard)
    assert sent["via_bot"]["username"] == "gif_helper_bot" and sent["via_bot"]["is_bot"] is True
    assert sent["reply_markup"] == keyboard
    parsed = _ptb(demo, _last_update(demo)["message"])
    assert parsed.via_bot.username == "gif_helper_bot" and parsed.reply_markup.inline_keyboard[0][0].url
    gif = client.send_message("Sandbox Group", "carol", animation=True, via_bot="gif_helper_bot")
    assert gif["via_bot"]["id"] == 777001 and "animation" in gif
    with pytest.raises(SandboxError, match="only when sent via a bot"):
        client.send_message("Sandbox Group", "carol", "click", reply_markup=keyboard)
    with pytest.raises(SandboxError, match="via_bot must be a bot"):
        client.send_message("Sandbox Group", "carol", "x", via_bot="dave")
    with pytest.raises(SandboxError, match="action"):
        client.send_message("Sandbox Group", "carol", "x", via_bot="gif_helper_bot",
                            reply_markup={"inline_keyboard": [[{"text": "no action"}]]})


def test_posting_as_a_channel_and_automatic_forwards(demo, client):
    channel = client.create_chat("Carol News", "carol", type="channel", username="carol_news")
    client.add_member("Carol News", "sandbox_mod_bot", by="carol", status="administrator")
    post = client.send_message("Sandbox Group", "carol", "hello from my channel", sender_chat="Carol News")
    assert post["from"] == {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
    assert post["sender_chat"]["id"] == channel["id"] and post["sender_chat"]["type"] == "channel"
    assert _ptb(demo, _last_update(demo)["message"]).sender_chat.type == "channel"
    auto = client.send_message("Sandbox Group", "carol", "channel post", sender_chat="Carol News",
                               is_automatic_forward=True)
    assert auto["is_automatic_forward"] is True and auto["from"]["id"] == 777000
    assert auto["forward_origin"]["type"] == "channel" and auto["forward_origin"]["chat"]["id"] == channel["id"]
    # The author edits what they posted as the channel.
    edited = client.edit_message("Sandbox Group", post["message_id"], "hello again", user="carol")
    assert edited["text"] == "hello again"
    assert _last_update(demo)["edited_message"]["sender_chat"]["id"] == channel["id"]
    with pytest.raises(SandboxError, match="cannot post as"):
        client.send_message("Sandbox Group", "dave", "hi", sender_chat="Carol News")
    with pytest.raises(SandboxError, match="only supergroups"):
        client.send_message("Basic Group", "carol", "hi", sender_chat="Carol News")

    bot = demo.bot()

    async def ban_then_unban():
        async with bot:
            assert await bot.ban_chat_sender_chat(demo.group.id, channel["id"]) is True
            with pytest.raises(SandboxError, match="CHAT_SEND_AS_FORBIDDEN"):
                client.send_message("Sandbox Group", "carol", "still here?", sender_chat="Carol News")
            assert await bot.unban_chat_sender_chat(demo.group.id, channel["id"]) is True
            client.send_message("Sandbox Group", "carol", "back", sender_chat="Carol News")
            with telegram_error(telegram.error.BadRequest, "Chat not found"):
                await bot.ban_chat_sender_chat(demo.group.id, -100999)
            with telegram_error(telegram.error.BadRequest, "Method is available for supergroup and channel chats only"):
                await bot.ban_chat_sender_chat(demo.basic.id, channel["id"])

    asyncio.run(ban_then_unban())
    demo.world.promote(demo.group, demo.world.bot().user, by=demo.alice, rights={"can_delete_messages": True})

    async def without_rights():
        async with bot:
            with telegram_error(telegram.error.BadRequest, "Not enough rights to restrict/unrestrict chat member"):
                await bot.ban_chat_sender_chat(demo.group.id, channel["id"])

    asyncio.run(without_rights())


def test_forwards_carry_each_kind_of_origin(demo, client):
    client.create_user("Hidden", username="hidden_h")
    by_user = client.send_message("Sandbox Group", "carol", "fwd", forward_origin={"type": "user", "user": "dave"})
    assert by_user["forward_origin"]["type"] == "user"
    assert by_user["forward_origin"]["sender_user"]["id"] == demo.dave.id
    hidden = client.send_message("Sandbox Group", "carol", "fwd", forward_origin={"type": "hidden_user",
                                                                                   "name": "Secret Sam"})
    assert hidden["forward_origin"] == {"type": "hidden_user", "date": hidden["forward_origin"]["date"],
                                        "sender_user_name": "Secret Sam"}
    chat = client.send_message("Sandbox Group", "carol", "fwd", forward_origin={"type": "chat",
                                                                                 "chat": "Basic Group"})
    assert chat["forward_origin"]["sender_chat"]["id"] == demo.basic.id
    client.create_chat("Deals", "dave", type="channel", username="deals_ch")
    channel = client.send_message("Sandbox Group", "carol", photo=True, caption="50% off",
                                  forward_origin={"type": "channel", "chat": "Deals", "message_id": 42})
    assert channel["forward_origin"]["type"] == "channel" and channel["forward_origin"]["message_id"] == 42
    for sent in (by_user, hidden, chat, channel):
        assert _ptb(demo, sent).forward_origin is not None

    # A person forwards the bot's message with its buttons: the origin is a bot (is_bot true).
    async def bot_posts():
        async with demo.bot() as bot:
            return await bot.send_message(demo.group.id, "rules", reply_markup=telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("Read", url="https://example.com/rules")]]))

    posted = asyncio.run(bot_posts())
    forwarded = client.forward_message("Sandbox Group", "dave", "Sandbox Group", posted.message_id)
    assert forwarded["forward_origin"]["sender_user"]["is_bot"] is True
    assert forwarded["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.com/rules"
    # Forwarding a photo keeps the photo and its caption.
    again = client.forward_message("Sandbox Group", "dave", "Sandbox Group", channel["message_id"])
    assert again["photo"] == channel["photo"] and again["caption"] == "50% off"


def test_edits_arrive_as_edited_message_with_the_whole_message(demo, client):
    text = client.send_message("Sandbox Group", "carol", "innocent")
    edited = client.edit_message("Sandbox Group", text["message_id"], "now with https://spam.example", user="carol")
    update = _last_update(demo)["edited_message"]
    assert update["message_id"] == text["message_id"] and update["edit_date"] >= update["date"]
    assert update["entities"] == [{"offset": 9, "length": 20, "type": "url"}] == edited["entities"]
    photo = client.send_message("Sandbox Group", "carol", photo=True, caption="cat")
    client.edit_message("Sandbox Group", photo["message_id"], "cat, see t.me/joinchat/AAAA", user="carol")
    update = _last_update(demo)["edited_message"]
    assert update["caption"] == "cat, see t.me/joinchat/AAAA" and update["photo"] == photo["photo"]
    assert update["caption_entities"][0]["type"] == "url" and "text" not in update
    assert _ptb(demo, update).edit_date is not None
    linked = client.edit_message("Sandbox Group", text["message_id"], "click", user="carol",
                                 entities=[{"type": "text_link", "offset": 0, "length": 5, "url": "https://x.io"}])
    assert linked["entities"][0]["type"] == "text_link"
    sticker = client.send_message("Sandbox Group", "carol", sticker=True)
    with pytest.raises(SandboxError, match="no text to edit"):
        client.edit_message("Sandbox Group", sticker["message_id"], "x", user="carol")
    with pytest.raises(SandboxError, match="their own"):
        client.edit_message("Sandbox Group", text["message_id"], "x", user="dave")
    fwd = client.send_message("Sandbox Group", "carol", "fwd", forward_origin={"type": "user", "user": "dave"})
    with pytest.raises(SandboxError, match="forwarded messages can't be edited"):
        client.edit_message("Sandbox Group", fwd["message_id"], "x", user="carol")


def test_a_member_adding_a_bot_brings_new_chat_members(demo, client):
    other = client.create_user("Spam Bot", username="cheap_spam_bot", is_bot=True)
    client.add_member("Sandbox Group", "cheap_spam_bot", by="carol")
    message = _last_update(demo)["message"]
    assert message["from"]["id"] == demo.carol.id
    assert message["new_chat_members"] == [other] and message["new_chat_members"][0]["is_bot"] is True
    assert _ptb(demo, message).new_chat_members[0].is_bot is True


def test_restricted_members_may_lack_the_right_for_one_kind(demo, client):
    client.restrict("Sandbox Group", "dave", by="alice", permissions={
        "can_send_messages": True, "can_send_photos": False, "can_send_other_messages": False})
    client.send_message("Sandbox Group", "dave", "text is fine")
    with pytest.raises(SandboxError, match="CHAT_SEND_PHOTOS_FORBIDDEN") as refused:
        client.send_message("Sandbox Group", "dave", photo=True)
    assert refused.value.status == 403
    with pytest.raises(SandboxError, match="CHAT_SEND_STICKERS_FORBIDDEN"):
        client.send_message("Sandbox Group", "dave", sticker=True)
    with pytest.raises(SandboxError, match="CHAT_SEND_GIFS_FORBIDDEN"):
        client.send_message("Sandbox Group", "dave", animation=True)


@pytest.mark.anyio
async def test_bots_send_media_by_file_id(demo, client):
    photo = client.send_message("Sandbox Group", "carol", photo=True)["photo"]
    gif = client.send_message("Sandbox Group", "carol", animation=True)["animation"]
    files = {kind: client.send_message("Sandbox Group", "carol", **{kind: True})[kind]
             for kind in ("sticker", "document", "video", "audio", "voice")}
    async with demo.bot() as bot:
        sent = await bot.send_photo(demo.group.id, photo[-1].get("file_id"), caption="<b>look</b> at example.com",
                                    parse_mode="HTML")
        assert sent.photo[-1].file_id == photo[-1]["file_id"] and sent.caption == "look at example.com"
        assert [e.type for e in sent.caption_entities] == ["bold", "url"]
        sticker = await bot.send_sticker(demo.group.id, files["sticker"]["file_id"])
        assert sticker.sticker.file_id == files["sticker"]["file_id"] and sticker.caption is None
        document = await bot.send_document(demo.group.id, files["document"]["file_id"], caption="the report")
        assert document.document.file_name == "report.pdf" and document.caption == "the report"
        animation = await bot.send_animation(demo.group.id, gif["file_id"])
        assert animation.animation.file_id == gif["file_id"] and animation.document.file_id == gif["file_id"]
        as_document = await bot.send_document(demo.group.id, gif["file_id"])
        assert as_document.animation is not None  # a gif's file sent as a document is a gif again
        video = await bot.send_video(demo.group.id, files["video"]["file_id"], caption="clip")
        assert video.video.file_id == files["video"]["file_id"]
        audio = await bot.send_audio(demo.group.id, files["audio"]["file_id"])
        assert audio.audio.title == "Test Tune"
        voice = await bot.send_voice(demo.group.id, files["voice"]["file_id"])
        assert voice.voice.duration == 4
        buttons = telegram.InlineKeyboardMarkup([[telegram.InlineKeyboardButton("Site", url="https://example.com")]])
        with_buttons = await bot.send_photo(demo.group.id, photo[0]["file_id"], reply_markup=buttons,
                                            reply_to_message_id=sent.message_id)
        assert with_buttons.reply_markup.inline_keyboard[0][0].url == "https://example.com"
        assert with_buttons.reply_to_message.message_id == sent.message_id
        by_url = await bot.send_photo(demo.group.id, "https://example.com/cat.jpg")
        assert by_url.photo and by_url.photo[-1].file_id not in {p["file_id"] for p in photo}

        with telegram_error(telegram.error.BadRequest, "Wrong file identifier/http url specified"):
            await bot.send_photo(demo.group.id, "AgACnotafile")
        with telegram_error(telegram.error.BadRequest, "Type of file mismatch"):
            await bot.send_photo(demo.group.id, files["sticker"]["file_id"])
        with telegram_error(telegram.error.BadRequest, "Type of file mismatch"):
            await bot.send_sticker(demo.group.id, files["document"]["file_id"])
        with telegram_error(telegram.error.BadRequest, "Message caption is too long"):
            await bot.send_document(demo.group.id, files["document"]["file_id"], caption="x" * 1025)

        # copyMessage: the same media, a new caption and buttons when given; forwardMessage keeps everything.
        copied = await bot.copy_message(demo.group.id, demo.group.id, document.message_id, caption="copy")
        copy = demo.world.chat("Sandbox Group").messages[copied.message_id]
        assert copy.content["document"]["file_id"] == files["document"]["file_id"] and copy.caption == "copy"
        assert copy.forward_origin is None
        forwarded = await bot.forward_message(demo.group.id, demo.group.id, sticker.message_id)
        assert forwarded.sticker.file_id == files["sticker"]["file_id"]
        assert forwarded.forward_origin.type == "user"
        dice = await bot.send_dice(demo.group.id, emoji="🎰")
        assert 1 <= dice.dice.value <= 64
    text_only = {m.message_id for m in demo.world.messages("Sandbox Group") if m.text is not None}
    assert sent.message_id not in text_only


@pytest.mark.anyio
async def test_a_bot_without_media_rights_is_refused(demo, client):
    photo = client.send_message("Sandbox Group", "carol", photo=True)["photo"]
    gif = client.send_message("Sandbox Group", "carol", animation=True)["animation"]
    demo.world.set_chat_permissions("Basic Group", {"can_send_messages": True, "can_send_photos": False,
                                                    "can_send_other_messages": False})
    async with demo.bot() as bot:
        with telegram_error(telegram.error.BadRequest, "Not enough rights to send photos to the chat"):
            await bot.send_photo(demo.basic.id, photo[0]["file_id"])
        with telegram_error(telegram.error.BadRequest, "Chat_send_gifs_forbidden"):
            await bot.send_animation(demo.basic.id, gif["file_id"])
        await bot.send_message(demo.basic.id, "text still goes")


def test_botchat_posts_content(demo):
    from tgsandbox.botchat import BotChat

    out: list[str] = []
    with SandboxClient(demo.url) as control:
        chat = BotChat(control, output=out.append, settle=0.05, max_wait=0.2)
        chat.switch_user("carol")
        chat.switch_chat("Sandbox Group")
        for line in ("/post photo my cat", "/post gif", "/post poll Lunch?", "/post sticker", "/post nothing"):
            chat.handle(line)
    lines = [line for line in out if line.startswith("#")]
    assert [line.split(": ", 1)[1] for line in lines] == ["<photo> my cat", "<gif>", "<poll>", "<sticker>"]
    assert any("usage: /post" in line for line in out)
    messages = demo.world.messages("Sandbox Group", sender="carol")
    assert messages[-1].content["sticker"]["type"] == "regular"
    assert messages[-2].content["poll"]["question"] == "Lunch?"
    assert messages[-3].content["animation"]["file_id"] == messages[-3].content["document"]["file_id"]
