#!/usr/bin/env python3
"""Writes the demo dealership's day as vendor webhook events: mykaarma.ndjson, highlevel.ndjson and
partoo.ndjson beside this file. Deterministic: the same script writes the same bytes.

Run it after changing it:  python3 assets/demo/generate.py

Riverside Auto Group uses myKaarma for its service department, HighLevel for sales and Partoo for
its Google/Meta/WhatsApp presence. The events are shaped as each vendor documents them (see
../shared/vendor-docs): myKaarma payloads are JSON strings, HighLevel trusts `direction`, Partoo
updates carry a reduced conversation. Some updates are written before the message they update.
"""
import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
rng = random.Random(20261120)

DEALER = "7c1e5a9f3b7d1e5a9c3e7b1f5d9a3c7e1b5f9d3a7c1e5b9f3d7a1c5e9b3f7d1"
SERVICE = "3a7f1c9e2b5d8f0a4c6e9b1d3f5a7c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f2"
DEALER_NUMBER = "3109880001"


def uid(*parts, n=43):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in (digest * 2)[:n])


def at(minutes):
    return BASE + timedelta(minutes=minutes)


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- myKaarma
mk_events = []
mk_seq = [100000]


def mk(customer, name, number, minutes, body, *, kind="S", protocol="X", update=False, status=None,
       failure=None, subject=None, files=None, call=None, whatsapp=False, uuid=None, sender="Alex Rivera",
       update_minutes=None, read=None):
    """One myKaarma `messages` event; returns the message uuid so updates can reuse it."""
    mk_seq[0] += 1
    uuid = uuid or uid("mk-msg", customer, minutes, body)
    inbound = kind == "I"
    when = at(minutes)
    sent_on = when.strftime("%Y-%m-%d %H:%M:%S")
    dto = {
        "uuid": uuid,
        "id": mk_seq[0],
        "messageType": kind,
        "protocol": protocol,
        "fromName": name if inbound else sender,
        "fromNumber": number if inbound else DEALER_NUMBER,
        "toName": "Riverside Auto Service" if inbound else name,
        "toNumber": DEALER_NUMBER if inbound else number,
        "messageSize": 1,
        "sentOn": sent_on,
        "receivedOn": sent_on,
        "tags": None,
        "emailMessageId": None,
        "communicationUid": "SM" + uid("sid", uuid, n=32),
        "messagePurpose": "INCOMING_MESSAGE" if inbound else None,
        "deliveryStatus": status,
        "dealerDepartmentUuid": SERVICE,
        "twilioDeliveryFailureMessage": failure,
        "numberofMessageAttachments": len(files or []),
        "isManual": not inbound,
        "customerUuid": customer,
        "customerName": name,
        "dealerUuid": DEALER,
        "dealerAssociateUuid": uid("da", sender, n=64),
        "isRead": read if read is not None else (not inbound),
        "isArchive": False,
        "messageExtnDTO": {"messageUuid": uuid, "messageBody": body, "subject": subject},
        "messageMetaDataDTO": None,
        "docFiles": files or [],
        "messageTags": {"tagTypes": [], "tags": []},
        "whatsAppMessageDTO": {"templateName": None} if whatsapp else None,
    }
    payload = {"dealerOrderUuid": None, "isUpdate": update, "messageDTO": dto}
    if call:
        payload["voiceCallDTO"] = call
    stamp = at(update_minutes if update_minutes is not None else minutes)
    mk_events.append({
        "id": uid("mk-event", uuid, update, status, failure, n=36),
        "timestamp": int(stamp.timestamp() * 1000),
        "dealeruuid": DEALER,
        "departmentuuid": SERVICE,
        "type": "messages",
        "payload": dumps(payload),  # as delivered: a JSON string
    })
    return uuid


def doc_file(uuid, name, mime, size):
    return {"messageUuid": uuid, "docFileName": "att_" + uid(name, n=10) + "." + name.rsplit(".", 1)[1],
            "originalFileName": name, "fileExtension": name.rsplit(".", 1)[1], "mimeType": mime,
            "docSize": str(size), "thumbnailFileName": None,
            "mediaPreviewURL": f"https://media.mykaarma.example/preview/{uid(name, n=16)}/{name}"}


maria = uid("cust", "maria")
mk(maria, "María González", "3105550142", 5, "Hola! The check engine light came on this morning 😟 Can you look at it today?", kind="I", read=False)
photo_uuid = uid("mk-msg", "maria-photo")
mk(maria, "María González", "3105550142", 6, "Here is the dashboard", kind="I", uuid=photo_uuid,
   files=[doc_file(photo_uuid, "dashboard.jpg", "image/jpeg", 348211)], read=False)
m1 = mk(maria, "María González", "3105550142", 14, "Hi María, we can take your CR-V at 11:30 today. Reply YES to confirm.", status="1")
mk(maria, "María González", "3105550142", 14, "Hi María, we can take your CR-V at 11:30 today. Reply YES to confirm.", uuid=m1, update=True, status="delivered", update_minutes=15)
mk(maria, "María González", "3105550142", 22, "YES 👍 gracias", kind="I")

james = uid("cust", "james")
recall_html = ("<html><body><div style=\"font-family: Arial\"><p>Dear James,</p><p>Your <b>2021 F-150</b> is "
               "covered by safety recall <b>24S41</b> (rear axle bolt). The repair is free and takes about "
               "two hours.</p><p><a href=\"https://riverside-auto.example/book?recall=24S41\">Book your visit</a>"
               "</p><p>Riverside Auto Service<br>(310) 988-0001</p></div></body></html>")
r1 = mk(james, "James O'Connor", "james.oconnor@example.com", 30, recall_html, protocol="E",
        subject="Safety recall 24S41 for your 2021 F-150", status="1", sender="Service Team")
mk(james, "James O'Connor", "james.oconnor@example.com", 30, recall_html, protocol="E", uuid=r1, update=True,
   subject="Safety recall 24S41 for your 2021 F-150", status="delivered", update_minutes=31, sender="Service Team")
mk(james, "James O'Connor", "james.oconnor@example.com", 95,
   "Thanks. Could I bring it in Thursday morning? Also, is a loaner available?\n\n-- \nJames", kind="I", protocol="E",
   subject="Re: Safety recall 24S41 for your 2021 F-150")

wei = uid("cust", "wei")
mk(wei, "陈伟 (Wei Chen)", "6265550199", 40, "你好，我的车什么时候可以取？ When can I pick up the Model Y?", kind="I")
w1 = uid("mk-msg", "wei-reply")
# The carrier's failure report arrives before the message it is about.
mk(wei, "陈伟 (Wei Chen)", "6265550199", 48, "Hi Wei, your car is ready after 4pm. Total due $412.80 — pay here: https://pay.example/r/8841",
   uuid=w1, update=True, status="0", failure="30007", update_minutes=49)
mk(wei, "陈伟 (Wei Chen)", "6265550199", 48, "Hi Wei, your car is ready after 4pm. Total due $412.80 — pay here: https://pay.example/r/8841",
   uuid=w1, status="1")

priya = uid("cust", "priya")
mk(priya, "Priya Patel", "4245550117", 60, "Voice Call", kind="I", protocol="V", subject="You have received an call from: 4245550117",
   call={"voiceGateway": "T", "callingParty": "4245550117", "party1": "4245550117", "party2": DEALER_NUMBER,
         "callStatus": 100, "callIdentifier": "CA" + uid("call", "priya", n=32), "callDateTime": at(60).strftime("%Y-%m-%d %H:%M:%S"),
         "recordCall": True, "recordingUrl": "https://recordings.mykaarma.example/CA8f3e/priya.mp3",
         "transcribeCall": True, "transcribedText": "Hi, it's Priya, the brakes are squeaking again since last week's service. Can someone call me back?",
         "duration": 74, "callBroker": "TWILIO"})
mk(priya, "Priya Patel", "4245550117", 75, "Hi Priya, sorry about the brakes. We'll re-check them free of charge — does tomorrow 9am work?", status="delivered")
mk(priya, "Priya Patel", "4245550117", 80, "Customer prefers calls after 5pm. Comeback from RO 58812 — no charge approved by Sam.", kind="N", protocol="Z", sender="Sam Ortiz")
mk(priya, "Priya Patel", "4245550117", 118, "Voice Call", kind="I", protocol="V", subject="You have received an call from: 4245550117",
   call={"voiceGateway": "T", "callStatus": 102, "duration": 0, "callBroker": "TWILIO", "recordingUrl": None})

tomas = uid("cust", "tomas")
mk(tomas, "Tomás Müller", "+4915112345678", 100, "Guten Tag! Is the winter tire package still €649 incl. fitting? 🚗❄️", kind="I", whatsapp=True)
mk(tomas, "Tomás Müller", "+4915112345678", 104, "Hi Tomás — yes, €649 including fitting and storage of your summer set. Shall I book you in?", whatsapp=True, status="read")
mk(tomas, "Tomás Müller", "+4915112345678", 109, "Ja, bitte 👍 Saturday if possible", kind="I", whatsapp=True)

aisha = uid("cust", "aisha")
mk(aisha, "Aisha Bello", "3235550163", 120, "Reminder: your Camry is due for its 30,000-mile service. Book: https://riverside-auto.example/b/ab", status="0",
   failure="21610: Attempt to send to unsubscribed recipient")
mk(aisha, "Aisha Bello", "3235550163", 121, "Text reminder bounced — customer texted STOP in March. Called her instead; booked for Dec 2.", kind="N", protocol="Z", sender="Alex Rivera")

robert = uid("cust", "robert")
mk(robert, "Robert Smith", "7145550188", 130, "Voice Call", kind="I", protocol="V", subject="You have received an call from: 7145550188",
   call={"voiceGateway": "T", "callStatus": 104, "duration": 0, "callBroker": "TWILIO"})
mk(robert, "Robert Smith", "7145550188", 131, "Hi Robert, sorry we missed your call — what can we help with?", status="delivered")
mk(robert, "Robert Smith", "7145550188", 150, "Draft: quote for timing belt, waiting on parts price", kind="F")

linda = uid("cust", "linda")
inv = uid("mk-msg", "linda-invoice")
mk(linda, "Linda Park", "linda.park@example.com", 160, "<p>Hi Linda,</p><p>Attached is the invoice for RO 58840. Thank you for choosing Riverside!</p>",
   protocol="E", subject="Your invoice RO 58840", uuid=inv, status="1", files=[doc_file(inv, "Invoice-RO58840.pdf", "application/pdf", 88412)])
mk(linda, "Linda Park", "linda.park@example.com", 160, "<p>Hi Linda,</p><p>Attached is the invoice for RO 58840. Thank you for choosing Riverside!</p>",
   protocol="E", subject="Your invoice RO 58840", uuid=inv, update=True, status="delivered", update_minutes=162,
   files=[doc_file(inv, "Invoice-RO58840.pdf", "application/pdf", 88412)])

carlos = uid("cust", "carlos")
mk(carlos, "Carlos Ruiz", "5625550134", 170, "Hi Carlos, your loaner is due back by 6pm today. Thanks!", status="0", failure="30003")
mk(carlos, "Carlos Ruiz", "5625550134", 240, "sorry got the text late, bringing it now", kind="I")

# One long thread: a fleet customer's year of texts.
dave = uid("cust", "dave-fleet")
fleet_lines_in = ["Truck {n} is making a grinding noise when braking", "Can you fit van {n} in this week?", "Approved, go ahead with the work on unit {n}",
                  "Is unit {n} ready?", "Driver will drop off unit {n} at 7am", "Please send the invoice for unit {n} to accounts@northside.example"]
fleet_lines_out = ["Unit {n} is checked in, we'll call with findings", "Unit {n} needs front pads and rotors, $486 — approve?", "Unit {n} is ready for pickup",
                   "Invoice for unit {n} sent to accounts", "We can take unit {n} Thursday 8am", "Unit {n} passed inspection ✅"]
minute = -525_600
for i in range(520):
    minute += rng.randint(300, 1500)
    n = rng.randint(1, 40)
    if i % 2 == 0:
        mk(dave, "Dave Kowalski (Northside Plumbing fleet)", "8185550100", minute, rng.choice(fleet_lines_in).format(n=n), kind="I", read=True)
    else:
        mk(dave, "Dave Kowalski (Northside Plumbing fleet)", "8185550100", minute, rng.choice(fleet_lines_out).format(n=n),
           status=rng.choice(["delivered", "delivered", "delivered", "1"]))
mk(dave, "Dave Kowalski (Northside Plumbing fleet)", "8185550100", 200, "Morning — units 12 and 31 both need oil changes this week", kind="I")

# Events the inbox does not show: stored and marked ignored.
mk_events.append({"id": uid("mk-event", "customer-update", n=36), "timestamp": int(at(10).timestamp() * 1000), "dealeruuid": DEALER,
                  "departmentuuid": SERVICE, "type": "customers",
                  "payload": dumps({"customer": {"uuid": maria, "firstName": "María", "lastName": "González"}})})
mk_events.append({"id": uid("mk-event", "appointment", n=36), "timestamp": int(at(16).timestamp() * 1000), "dealeruuid": DEALER,
                  "departmentuuid": SERVICE, "type": "appointments",
                  "payload": dumps({"appointmentUuid": uid("appt", 1), "status": "CONFIRMED", "customerUuid": maria})})

# ---------------------------------------------------------------- HighLevel
hl_events = []
LOCATION = "l1C08ntBrFjLS0elLIYU"


def iso(minutes):
    return at(minutes).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at(minutes).microsecond // 1000:03d}Z"


def hl(conv, contact, minutes, message_type, direction, body=None, *, status=None, attachments=None, extra=None, user="xsmF1xxhmC92ZpL1lj7aLa"):
    ev = {
        "type": "InboundMessage" if direction == "inbound" else "OutboundMessage",
        "locationId": LOCATION,
        "attachments": attachments or [],
        "contactId": contact,
        "conversationId": conv,
        "dateAdded": iso(minutes),
        "direction": direction,
        "messageType": message_type,
        "messageId": uid("hl-msg", conv, minutes, body, n=20),
        "webhookId": uid("hl-webhook", conv, minutes, body, status, n=24),
        "timestamp": iso(minutes),
    }
    if body is not None:
        ev["body"] = body
        ev["contentType"] = "text/plain"
    if status:
        ev["status"] = status
    if direction == "outbound":
        ev["userId"] = user
        ev["source"] = "app"
    ev.update(extra or {})
    hl_events.append(ev)
    return ev


def contact(cid, first, last, phone=None, email=None, minutes=0):
    hl_events.append({"type": "ContactCreate", "locationId": LOCATION, "id": cid, "firstName": first, "lastName": last,
                      "name": f"{first} {last}", "phone": phone, "email": email, "dateAdded": iso(minutes),
                      "timestamp": iso(minutes), "webhookId": uid("hl-webhook", "contact", cid, n=24)})


c_jordan, c_sofia, c_hans_g, c_chat, c_emily, c_frank, c_grace, c_olu, c_kim = (uid("hl-contact", n, n=20) for n in range(9))
contact(c_jordan, "Jordan", "Lee", "+13105550177", minutes=1)
contact(c_sofia, "Sofia", "Rossi", minutes=2)
contact(c_frank, "Frank", "Delgado", "+13105550121", minutes=3)
contact(c_grace, "Grace", "Kim", "+13105550155", minutes=4)
contact(c_olu, "Oluwaseun", "Adeyemi", "+2348035550111", minutes=5)

hl("fbConvJordanLee01", c_jordan, 35, "FB", "inbound", "Hey, saw the Black Friday post — is the 2024 Tacoma TRD still available?")
hl("fbConvJordanLee01", c_jordan, 41, "FB", "outbound", "Hi Jordan! Yes, stock #T4471 is on the lot. Want to come for a test drive today?", status="delivered")
hl("fbConvJordanLee01", c_jordan, 44, "FB", "inbound", "Maybe after 5? I get off work at 4:30")

hl("igConvSofiaRossi01", c_sofia, 50, "IG", "inbound", "Is this one still for sale? 😍",
   attachments=["https://scontent.cdninstagram.example/v/t51/ig_story_white_bronco.jpg"])
hl("igConvSofiaRossi01", c_sofia, 58, "IG", "outbound", "Ciao Sofia! It is — the white Bronco Badlands. Shall I send you the window sticker?", status="read")

hl("gmbConvRiverside01", c_hans_g, 65, "GMB", "inbound", "Are you open on Sunday for service?")
hl("gmbConvRiverside01", c_hans_g, 71, "GMB", "outbound", "Service is open Sundays 9am–3pm. Sales is open 11am–6pm.", status="delivered")

hl("chatConvTradeIn01", c_chat, 85, "Live Chat", "inbound", "What would you give me for a 2017 Civic with 92k miles?")
hl("chatConvTradeIn01", c_chat, 87, "Live Chat", "outbound", "Happy to appraise it! Roughly $11–13k depending on condition. Can you share the VIN?", status="sent")

email_html = ("<div dir=\"ltr\"><p>Hello,</p><p>I'd like a quote for the <b>2025 RAV4 Hybrid XLE</b> in Blueprint, "
              "with the weather package. I have a trade-in (2019 Corolla).</p><p>Thanks,<br>Emily Nguyễn</p></div>")
hl("emailConvEmily01", c_emily, 90, "Email", "inbound", email_html,
   extra={"contentType": "text/html", "subject": "Quote request: RAV4 Hybrid XLE", "from": "Emily Nguyễn <emily.nguyen@example.com>",
          "to": ["sales@riverside-auto.example"], "emailMessageId": "<CAE1q2w3e4r5t6@mail.example.com>", "threadId": "thr-emily-1"})
reply = hl("emailConvEmily01", c_emily, 112, "Email", "outbound",
           "<html><body><p>Hi Emily,</p><p>Thanks for reaching out! The <b>RAV4 Hybrid XLE</b> in Blueprint with the weather "
           "package is <b>$36,940</b> before your trade. Your Corolla's estimate is attached.</p>"
           "<table><tr><td>MSRP</td><td>$36,940</td></tr><tr><td>Trade-in (est.)</td><td>-$14,200</td></tr></table>"
           "<p>Best,<br>Nina Hart, Sales</p></body></html>",
           attachments=["https://storage.leadconnector.example/quotes/RAV4-quote-Nguyen.pdf"],
           extra={"contentType": "text/html", "subject": "Re: Quote request: RAV4 Hybrid XLE", "from": "Nina Hart <nina@riverside-auto.example>",
                  "to": ["emily.nguyen@example.com"], "emailMessageId": "<rv-quote-7731@riverside-auto.example>", "threadId": "thr-emily-1"})
# Mailgun-shaped delivery statistics for that reply; the "opened" event is written first.
for event, minutes in [("opened", 140), ("delivered", 113)]:
    hl_events.append({"type": "LCEmailStats", "locationId": LOCATION, "companyId": "cmp-riverside",
                      "webhookPayload": {"event": event, "id": uid("mailgun", event, n=22), "timestamp": at(minutes).timestamp(),
                                         "recipient": "emily.nguyen@example.com", "message": {"headers": {"message-id": "rv-quote-7731@riverside-auto.example"}},
                                         "delivery-status": {"code": 250, "message": "OK", "description": ""}}})

hl("emailConvFrank01", c_frank, 125, "Email", "outbound",
   "<p>Hi Frank, your lease ends in 60 days. Let's talk about your options!</p>",
   extra={"contentType": "text/html", "subject": "Your lease ends soon", "from": "Nina Hart <nina@riverside-auto.example>",
          "to": "frank.delgado@oldmail.example", "emailMessageId": "<rv-lease-1182@riverside-auto.example>"})
hl_events.append({"type": "LCEmailStats", "locationId": LOCATION, "companyId": "cmp-riverside",
                  "webhookPayload": {"event": "failed", "severity": "permanent", "id": uid("mailgun", "frank", n=22), "timestamp": at(126).timestamp(),
                                     "recipient": "frank.delgado@oldmail.example", "reason": "bounce",
                                     "message": {"headers": {"message-id": "<rv-lease-1182@riverside-auto.example>"}},
                                     "delivery-status": {"code": 550, "message": "5.1.1 mailbox unavailable",
                                                         "description": "The email account that you tried to reach does not exist."}}})
hl("smsConvFrank01", c_frank, 128, "SMS", "outbound", "Hi Frank, it's Nina from Riverside — your lease ends Jan 19. Time for a quick call this week?", status="delivered")

hl("callConvGrace01", c_grace, 135, "CALL", "inbound", status="voicemail", attachments=["https://recordings.leadconnector.example/vm/grace-1.mp3"],
   extra={"callStatus": "voicemail", "callDuration": 38})
hl("callConvGrace01", c_grace, 150, "CALL", "outbound", status="completed", attachments=["https://recordings.leadconnector.example/calls/grace-2.mp3"],
   extra={"callStatus": "completed", "callDuration": 312})
hl("callConvGrace01", c_grace, 160, "SMS", "outbound", "Great talking, Grace! Your appointment: Tue 10:00 with Nina. Address: 1200 River Rd.", status="delivered")

hl("vmConvOlu01", c_olu, 175, "CALL", "outbound", status="completed", extra={"callStatus": "no-answer", "callDuration": 0})
hl("vmConvOlu01", c_olu, 176, "VoiceMail", "outbound", status="completed", attachments=["https://recordings.leadconnector.example/drops/finance-offer.mp3"])
hl("vmConvOlu01", c_olu, 177, "SMS", "outbound", "Hi Oluwaseun, Nina here — left you a voicemail about the 1.9% APR offer.", status="undelivered")
hl("vmConvOlu01", c_olu, 178, "WhatsApp", "outbound", "Hi Oluwaseun, trying you on WhatsApp: 1.9% APR on the Highlander ends Sunday 🙂", status="read")
hl("vmConvOlu01", c_olu, 190, "WhatsApp", "inbound", "Thanks Nina! Can you send the monthly payment for 60 months?")

hl_events.append({"type": "ConversationUnreadUpdate", "locationId": LOCATION, "id": "fbConvJordanLee01", "contactId": c_jordan,
                  "unreadCount": 0, "inbox": True, "starred": False, "deleted": False, "timestamp": iso(42)})
hl_events.append({"type": "ConversationUnreadUpdate", "locationId": LOCATION, "id": "vmConvOlu01", "contactId": c_olu,
                  "unreadCount": 1, "inbox": True, "starred": True, "deleted": False, "timestamp": iso(190)})
hl_events.append({"type": "OpportunityCreate", "locationId": LOCATION, "id": "opp-7781", "name": "Emily Nguyễn – RAV4", "timestamp": iso(113)})

# ---------------------------------------------------------------- Partoo
pt_events = []
BUSINESS = {"id": "5f3a9c2e81b7d40012ab34cd", "name": "Riverside Auto Group", "city": "Los Angeles", "zipcode": "90039",
            "country": "US", "formatted_address": "1200 River Rd"}
pt_msg_id = [40000]


def ptdate(minutes):
    return at(minutes).strftime("%Y-%m-%d %H:%M:%S.%f") + "+00:00"


def partoo(kind, conv_id, consumer, partner, minutes, sender_type, content, *, status="Success", content_type="Text",
           phone=None, email=None, label=None, issues=None, msg_id=None, deleted=False, is_read=False, reduced=False):
    if msg_id is None:
        pt_msg_id[0] += 1
        msg_id = pt_msg_id[0]
    message = {"id": msg_id, "conversation_id": conv_id, "date": ptdate(minutes), "content_type": content_type,
               "sender_type": sender_type, "sender_label": label or (consumer if sender_type == "Consumer" else "Riverside Auto"),
               "status": status, "is_deleted": deleted, "is_automated": sender_type == "Metadata", "content": content,
               "user_id": "62d80fae74e8b11d700302b8" if sender_type == "User" else None}
    if reduced:
        conversation = {"id": conv_id, "consumer_img": None, "consumer_name": consumer, "business": {"id": 4711},
                        "messaging_partner": partner, "custom_channel": None}
    else:
        conversation = {"id": conv_id, "consumer_img": None, "consumer_name": consumer, "consumer_phone_number": phone,
                        "consumer_email": email, "last_message": message, "is_read": is_read, "status": "Open",
                        "created_at": ptdate(minutes), "has_one_user_message": sender_type == "User", "business": BUSINESS,
                        "messaging_partner": partner, "issues": issues or [], "first_message_date": ptdate(minutes),
                        "is_expired": False, "is_solved": False, "is_automated": False, "assigned_user_id": None, "custom_channel": None}
    pt_events.append({"type": kind, "payload": {"message": message, "conversation": conversation, "org_id": 4711}})
    return msg_id


partoo("message_created", 40977, "Hans Becker", "Google", 20, "Consumer", "Do you have 225/45 R17 winter tires in stock?")
hb = pt_msg_id[0] + 1
# Partoo's update (Success) is written before the message it updates (Sending).
partoo("message_updated", 40977, "Hans Becker", "Google", 27, "User", "Yes — Michelin X-Ice Snow, $189 each fitted. Want us to hold a set?", msg_id=hb, reduced=True)
partoo("message_created", 40977, "Hans Becker", "Google", 27, "User", "Yes — Michelin X-Ice Snow, $189 each fitted. Want us to hold a set?", msg_id=hb, status="Sending")
pt_msg_id[0] = hb
partoo("message_created", 40977, "Hans Becker", "Google", 33, "Consumer", "Please hold 4, I'll come Saturday")

fb = partoo("message_created", 40981, "Chloé Martin", "Facebook", 45, "Consumer", "Bonjour! Do you do financing for students?")
fbr = partoo("message_created", 40981, "Chloé Martin", "Facebook", 52, "User", "Hi Chloé, yes — we have a graduate program. What car are you looking at?", status="Sending")
partoo("message_updated", 40981, "Chloé Martin", "Facebook", 52, "User", "Hi Chloé, yes — we have a graduate program. What car are you looking at?",
       status="Failed", msg_id=fbr, reduced=True)
partoo("message_created", 40981, "Chloé Martin", "Facebook", 53, "Metadata", "Facebook page disconnected: reconnect it in Partoo to reply",
       issues=["facebook_no_page_linked"])

partoo("message_created", 40990, "Mateo (@mateo.drives)", "Instagram", 66, "Consumer", "https://lookaside.fbsbx.example/ig_messaging_cdn/story_8812.jpg",
       content_type="IgStoryMention")
partoo("message_created", 40990, "Mateo (@mateo.drives)", "Instagram", 67, "Consumer", "that red GR86 in your story 🔥 how much?", content_type="IgStoryReply")
partoo("message_created", 40990, "Mateo (@mateo.drives)", "Instagram", 73, "User", "It's $31,450 — and it sounds even better in person 😉", status="Success")
partoo("message_created", 40990, "Mateo (@mateo.drives)", "Instagram", 74, "Consumer", "https://cdn.partoo.example/media/ig/voice-note-2291.m4a", content_type="Audio")

partoo("message_created", 41002, "Émilie Dubois", "Whatsapp", 80, "Consumer", "Bonjour, pouvez-vous m'envoyer le devis pour l'entretien des 60 000 km ?",
       phone="+33612345678")
partoo("message_created", 41002, "Émilie Dubois", "Whatsapp", 86, "User", "https://cdn.partoo.example/media/docs/Devis-60000km-Dubois.pdf", content_type="Document",
       status="Success", phone="+33612345678")
partoo("message_created", 41002, "Émilie Dubois", "Whatsapp", 87, "User", "Voici le devis : 389 € TTC, pièces et main-d'œuvre comprises.", status="Success",
       phone="+33612345678", is_read=True)

sms1 = partoo("message_created", 41010, "Kevin O'Brien", "SMS", 140, "User", "Your vehicle inspection is due this month. Book online or reply to this text.",
              status="Sending", phone="+13105550190")
partoo("message_updated", 41010, "Kevin O'Brien", "SMS", 140, "User", "Your vehicle inspection is due this month. Book online or reply to this text.",
       status="Failed", msg_id=sms1, reduced=True)

partoo("message_created", 41015, "Nadia Haddad", "Google", 150, "Consumer", "", content_type="Carousel")
partoo("message_created", 41015, "Nadia Haddad", "Google", 151, "Consumer", "Sorry, sent the wrong thing — what are your hours today?")
dm = partoo("message_created", 41015, "Nadia Haddad", "Google", 152, "User", "We're open until 7pm!", status="Success")
partoo("message_updated", 41015, "Nadia Haddad", "Google", 152, "User", "We're open until 7pm!", status="Success", msg_id=dm, deleted=True, reduced=True)
partoo("message_created", 41015, "Nadia Haddad", "Google", 153, "User", "Correction: we're open until 8pm today 🙂", status="Success")

pt_events.append({"type": "business_updated", "payload": {"business": BUSINESS, "org_id": 4711}})


def write(name, events):
    with open(HERE / name, "w", encoding="utf-8") as f:
        for e in events:
            f.write(dumps(e) + "\n")


write("mykaarma.ndjson", mk_events)
write("highlevel.ndjson", hl_events)
write("partoo.ndjson", pt_events)
print(f"myKaarma {len(mk_events)}, HighLevel {len(hl_events)}, Partoo {len(pt_events)} events")
