"""Tell the affected person directly: notices in their own chat, "This was me" / "This wasn't me".

model.py     the notice, its events and the person's answer (pure data)
intake.py    rows of a notify_person rule -> notices (one per audit record, grouped
             per person, rate-limited: later events join the latest unanswered notice,
             opt-outs skipped) and their outbox items (deliveries and updates)
view.py      the channel-neutral notice view
delivery.py  the ways to reach a person, tried in order, behind the outbox; a delivered
             notice that events joined is brought up to date by the way that delivered it
graph.py     Microsoft Graph: install the Teams app for a person, their 1:1 chat, sendMail
answers.py   the person's answer: recorded, audited, "This wasn't me" raises an alert
reminders.py no answer in time: a low-severity reminder alert, once per notice (optional)
"""
