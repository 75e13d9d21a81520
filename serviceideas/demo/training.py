"""Demo training: eight modules written for this company, assigned to everyone and to the
back office in particular, with done, due and overdue work and some reflections answered."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training import services
from serviceideas.training.models import (
    Audience,
    Enrolment,
    Module,
    ModuleKind,
    Reflection,
    Repeat,
)

R, F, A = ModuleKind.READING, ModuleKind.REFLECTION, ModuleKind.ACTIVITY

# (title, summary, body, kind, prompt, minutes)
MODULES = [
    (
        "Everyone serves someone",
        "Why IT, logistics and finance are service teams too, and who their customers are.",
        """Most of us never meet a paying customer. That does not mean we are not in service.

## Your internal customers

The store that waits for your delivery, the engineer who needs a working laptop, the
colleague whose expense claim you approve: each of them is a customer of your work. When
their day goes wrong because of something behind the scenes, *their* customer feels it.

## Where service fails

Front-line colleagues usually know that a happy customer matters. The trouble more often
starts further back: a process that makes the front line wait, a system nobody asked them
about, a rule that protects our time at the cost of theirs.

## What to take away

- Name the people who depend on your work.
- Ask them, now and then, what gets in their way.
- Treat their problem as yours, even when you did not cause it.
""",
        R,
        None,
        10,
    ),
    (
        "Four ways to answer a customer",
        "Learn, care, teach — and the fourth road we want to close: “go away”.",
        """When a customer comes to us, the answer takes one of four roads.

1. **Learn.** They tell us something and we get better because of it.
2. **Care.** A hard moment met with clarity, respect and empathy. When the delivery really
   is lost, how we treat them matters more than the explanation.
3. **Teach.** We show them how to solve it themselves: a clear guide, a short video, a
   patient colleague.
4. **Go away.** Hold queues, phone mazes and “not my department”. It sorts out everyone but
   the most persistent and treats the customer as a cost.

Every service idea here names one of the first three — or removes a “go away”.
""",
        F,
        "Think of the last time a customer (or a colleague) came to you. Which road did your "
        "answer take? What would the learn, care or teach road have looked like?",
        15,
    ),
    (
        "Be a customer of our own product",
        "Once a month, do one thing we ask our customers to do, and notice what gets in the way.",
        """We design processes from the inside. Customers meet them from the outside.

Once a month, do one thing a customer has to do: order something, return it, call the
number on our invoice, try to change an appointment, read our cancellation message.

Do it for real, end to end, and notice:

- where you had to wait, repeat yourself or guess;
- what you would have given up on if you were not an employee;
- one thing that was better than you expected.
""",
        A,
        "What did you do as a customer this time, what got in your way, and what would you "
        "change first?",
        45,
    ),
    (
        "Call a customer who left us",
        "No script, no offer: ring someone who cancelled, listen, and share what you heard.",
        """Numbers tell us *how many* customers leave. Only they can tell us *why*.

Pick a customer who cancelled last month. Call them with no script and nothing to sell.
Say who you are, thank them, and ask what happened. Then listen — the point is to learn,
not to win them back.

Afterwards, write a short summary for your team. Leaders in the best service companies
make these calls themselves, every month.
""",
        A,
        "Who did you call, what did you hear, and what surprised you?",
        40,
    ),
    (
        "Needs, wants and feelings",
        "Look past the request: what a customer needs, what they would prefer, and how they feel.",
        """A famous theme park studies its guests along four lines:

- **Needs** — the basics: *where are the toilets?*
- **Wants** — preferences around the needs: *somewhere quiet to sit with a toddler*.
- **Emotions** — what we want them to feel: welcome, safe, delighted.
- **Stereotypes** — the good ones to confirm, the bad ones to undo.

A problem on site that we did not cause is still ours to solve.
""",
        F,
        "Pick one kind of customer you meet often. What do they need, want and feel when they "
        "reach you — and which stereotype about us do they bring?",
        20,
    ),
    (
        "Answering the phone is already extraordinary",
        "Customers expect little: a real person, a promise kept, an easy process.",
        """Expectations of service are low. Picking up the phone with a real person, doing what
you said you would, being easy to deal with — each of these already stands out.

Poor processes make customers and staff fight the system together. Good ones let the
customer float through. Before designing anything clever, get the basics right, every time.
""",
        R,
        None,
        8,
    ),
    (
        "Who is your internal customer?",
        "For back-office teams: find the colleagues who depend on you and ask what they need.",
        """Ask two colleagues in another team, one of them on the front line:

1. What do you need from us that you do not get today?
2. When did our work last make your day harder?
3. What is one thing we should never change?

Listen without defending. Most of what you hear will be fixable.
""",
        F,
        "Who did you ask, what did they say, and what will your team do about it?",
        30,
    ),
    (
        "Map one journey from the customer's side",
        "Follow one reason for contacting us, channel by channel, to a good outcome.",
        """Choose one reason a customer contacts us — a late delivery, a wrong bill. Map every step
from their side: the channel they try first, the next one, how long each takes, where they
repeat themselves. Mark the step where the outcome is good *on their terms*.

Only then look at our systems and training: which step would you remove?
""",
        A,
        "Which journey did you map, how many steps did it take, and which one would you remove?",
        60,
    ),
]

ANSWERS = [
    "I realised the store team had asked us twice for delivery times and we answered with a "
    "policy. Next time I will ring them and find out what they actually need that morning.",
    "My answer was a 'go away': I sent the caller to another department. Care would have been "
    "staying on the line until the right person picked up, and telling them what happens next.",
    "I tried returning an item online. It took four screens and a printer I do not have. I "
    "would offer a QR code at the door instead of a printed label.",
    "The customer left because nobody called back about a broken part. She was not angry, just "
    "tired. She said the engineer was great; it was everything around him that failed.",
    "Our colleagues in Field Service need parts lists a day earlier. We can send them from the "
    "morning plan instead of the afternoon one — nobody had ever asked us.",
]
FEEDBACK = [
    "Thank you — this is exactly the kind of noticing that leads to change. Would you write "
    "it up as an idea?",
    "Honest and clear. The point about being tired rather than angry is worth sharing with the "
    "whole team.",
    "Good catch. Try asking the same question again next month and see if the answer changes.",
]


def seed_training(now: datetime | None = None) -> None:
    """Add the demo modules, assignments and enrolments. Expects the demo company."""
    now = now or utcnow()
    trainer = db.session.execute(
        sa.select(User).where(User.email == "trainer@example.com")
    ).scalar_one()
    modules = _publish_modules(trainer, now)
    _assign(trainer, modules, now.date())
    _complete_some(trainer, now, random.Random(11))
    db.session.flush()


def _publish_modules(trainer: User, now: datetime) -> list[Module]:
    """The eight modules, written and published a hundred days ago."""
    modules = []
    for title, summary, body, kind, prompt, minutes in MODULES:
        draft = services.ModuleDraft(title, summary, body, kind, prompt, minutes)
        module = services.create_module(trainer, draft)
        services.publish(trainer, module, now=now - timedelta(days=100))
        modules.append(module)
    return modules


def _assign(trainer: User, modules: list[Module], today: date) -> None:
    """Assign the modules over the last three months: to everyone, to the back office (one to
    all back-office teams, new ones included), and to the teams that meet customers, one of
    them repeating monthly."""
    departments = list(db.session.scalars(sa.select(Department)))
    back_office = [d for d in departments if d.kind is DepartmentKind.BACK_OFFICE]
    by_name = {d.name: d for d in departments}
    # (module index, audience, departments, days ago, due days, repeat)
    plan = [
        (0, Audience.EVERYONE, [], 90, 21, Repeat.NONE),
        (1, Audience.EVERYONE, [], 60, 21, Repeat.NONE),
        (5, Audience.EVERYONE, [], 30, 21, Repeat.NONE),
        (7, Audience.EVERYONE, [], 5, 30, Repeat.NONE),
        (2, Audience.DEPARTMENTS, back_office, 70, 20, Repeat.MONTHLY),
        (6, Audience.BACK_OFFICE, [], 45, 14, Repeat.NONE),  # and back-office teams to come
        (
            3,
            Audience.DEPARTMENTS,
            [by_name["Customer Service"], by_name["Sales"]],
            40,
            14,
            Repeat.NONE,
        ),
        (4, Audience.DEPARTMENTS, [by_name["Stores"]], 20, 14, Repeat.NONE),
    ]
    for index, audience, targets, days_ago, due_days, repeat in plan:
        start = today - timedelta(days=days_ago)
        draft = services.AssignmentDraft(
            audience, departments=targets, due_days=due_days, repeat=repeat
        )
        assignment = services.create_assignment(trainer, modules[index], draft, today=start)
        if repeat is Repeat.MONTHLY:  # the periods since, as the daily command would have made
            month = start.replace(day=1)
            while (month := (month + timedelta(days=32)).replace(day=1)) <= today:
                services.enrol(assignment, month)


def _complete_some(trainer: User, now: datetime, rng: random.Random) -> None:
    """Work done so far: most people keep up, some are late, some have not started; the
    trainer has answered about half of the reflections."""
    today = now.date()
    demo_learners = {"employee@example.com", "backoffice@example.com"}
    enrolments = db.session.scalars(sa.select(Enrolment).order_by(Enrolment.id)).all()
    for enrolment in enrolments:
        if enrolment.due_on > today + timedelta(days=7):
            continue  # not due for a while: nobody has started
        if enrolment.user.email in demo_learners:
            # The demo sign-ins are diligent but human: what fell due in the last ten days
            # is still open, so their list shows overdue, due-soon and done work.
            if enrolment.due_on >= today - timedelta(days=10):
                continue
        elif rng.random() > 0.7:
            continue
        started = datetime.combine(enrolment.enrolled_on, time(9), tzinfo=now.tzinfo)
        finished = min(now - timedelta(hours=1), started + timedelta(days=rng.randint(1, 30)))
        module = enrolment.assignment.module
        answer = rng.choice(ANSWERS) if module.kind.needs_answer else None
        services.complete(enrolment.user, enrolment, answer, now=finished)
        if answer and rng.random() < 0.5:
            # complete() wrote the reflection, keyed by the enrolment's id.
            reflection = db.session.get_one(Reflection, enrolment.id)
            services.give_feedback(
                trainer,
                reflection,
                rng.choice(FEEDBACK),
                now=min(now, finished + timedelta(days=1)),  # never after the demo begins
            )
