"""Demo ideas: about forty, across every status, lens and department, over six months.

Histories are written through the same service functions the app uses, with the clock set
back, so the demo obeys every rule the real data does.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.demo.journey import customer_side
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Idea, Lens, Status
from serviceideas.people.models import Department, User

L, C, T, G = Lens.LEARN, Lens.CARE, Lens.TEACH, Lens.REMOVE_GO_AWAY
EXT = None  # external customers benefit

# Sent without the author's name shown to colleagues (docs/product.md, "Speaking up safely"):
# asking to sit in the leaders' meeting is the kind of idea people hesitate to sign.
NAME_HIDDEN = frozenset({"Front-line staff in the quarterly leadership meeting"})

# (author's department, title, problem, proposal, lens, beneficiary department or EXT)
IDEAS = [
    (
        "Customer Service",
        "Call back customers who cancelled, every month, with no script",
        "People who leave tell us nothing; we only learn about them from churn numbers.",
        "Each team lead calls five customers who cancelled last month, just to listen, and shares a one-page summary.",
        L,
        EXT,
    ),
    (
        "Logistics",
        "Give stores a live view of deliveries that are running late",
        "Store staff learn a delivery is late when the customer is already at the counter.",
        "Share the route tracker with stores so they can warn customers before they travel.",
        G,
        "Stores",
    ),
    (
        "IT",
        "Reset a password without calling the help desk",
        "Colleagues in the field wait on hold to unlock accounts and cannot serve customers meanwhile.",
        "Offer a self-service reset with the phone number we already hold.",
        T,
        "Field Service",
    ),
    (
        "Finance",
        "Pay field engineers' expenses within five days",
        "Engineers pay for parts out of pocket and wait a month; some stop buying what customers need.",
        "Approve small expenses automatically and pay them in the next weekly run.",
        C,
        "Field Service",
    ),
    (
        "Stores",
        "A real person answers the store phone before the fourth ring",
        "The phone menu sends callers to a central queue, and local questions take twenty minutes.",
        "Route calls to the store first; the central queue only picks up if nobody answers.",
        G,
        EXT,
    ),
    (
        "Customer Service",
        "Explain a cancelled delivery in plain words",
        "Our cancellation text says 'order status changed' and customers call to ask what that means.",
        "Rewrite the message: what happened, what we will do, and when they will hear from us.",
        C,
        EXT,
    ),
    (
        "Field Service",
        "Short video on resetting the boiler display",
        "A third of our call-outs are for a display fault customers could clear themselves in a minute.",
        "Film a 60-second video and send it with every installation confirmation.",
        T,
        EXT,
    ),
    (
        "People & Culture",
        "New joiners spend a day with the front line",
        "Back-office starters never see a customer and learn our service only from slides.",
        "Every new colleague shadows a store or the contact centre in their first month.",
        L,
        "Customer Service",
    ),
    (
        "Sales",
        "Stop asking customers for the same details twice",
        "Customers give their details to sales and then again to installation.",
        "Pass the sales form straight to scheduling so installation calls only to book a time.",
        G,
        EXT,
    ),
    (
        "IT",
        "One screen for the contact centre instead of four",
        "Agents switch between four systems during a call while the customer waits.",
        "Show order, delivery, billing and notes on one screen, read-only to begin with.",
        G,
        "Customer Service",
    ),
    (
        "Logistics",
        "Tell customers the delivery window the evening before",
        "Customers take a whole day off to wait for a delivery.",
        "Send a two-hour window by text the evening before, from the route plan we already make.",
        C,
        EXT,
    ),
    (
        "Customer Service",
        "Let agents refund up to 50 without approval",
        "Customers wait days for small refunds while a manager signs them off.",
        "Trust agents with refunds up to 50 and review a sample each month.",
        C,
        EXT,
    ),
    (
        "Finance",
        "Invoices a customer can read",
        "Customers call to ask what the lines on their invoice mean.",
        "Rewrite the invoice with plain names and a one-line summary at the top.",
        T,
        EXT,
    ),
    (
        "Stores",
        "Be a customer of our own online shop once a month",
        "Store teams do not know what ordering online feels like and cannot help customers with it.",
        "Each store manager places one real order a month and reports what got in the way.",
        L,
        EXT,
    ),
    (
        "Field Service",
        "Engineers carry the five most needed parts",
        "Half of second visits are for parts that fit in a van.",
        "Stock every van with the five parts most often missing on first visits.",
        C,
        EXT,
    ),
    (
        "IT",
        "Status page for outages of internal systems",
        "When a system is down, every team calls the help desk to ask, and the phones jam.",
        "Publish a simple status page and link it from the intranet front page.",
        T,
        "Customer Service",
    ),
    (
        "Logistics",
        "Returns picked up when we deliver the replacement",
        "Customers wait in twice: once for the new item, once for the return.",
        "Collect the return on the same visit as the replacement.",
        G,
        EXT,
    ),
    (
        "People & Culture",
        "Front-line staff in the quarterly leadership meeting",
        "Leaders hear about customers through reports that smooth everything over.",
        "Invite two front-line colleagues to each quarterly meeting to speak candidly.",
        L,
        EXT,
    ),
    (
        "Sales",
        "Customer maths at the start of every sales meeting",
        "We talk about targets, never about the customers we lost and why.",
        "Open each meeting with customers lost and won last week and one story behind each.",
        L,
        EXT,
    ),
    (
        "Customer Service",
        "Warn customers before a known delay, not after",
        "We know about supplier delays days ahead but customers find out on the delivery day.",
        "Send a short apology with a new date as soon as logistics flags a delay.",
        C,
        EXT,
    ),
    (
        "Finance",
        "Month-end reports the stores can use",
        "Store managers get a 40-page report and read none of it.",
        "Send each store a one-page summary with the three numbers they can act on.",
        T,
        "Stores",
    ),
    (
        "Stores",
        "Quiet hour for customers who find busy stores hard",
        "Some customers with disabilities avoid the store at busy times and shop less with us.",
        "One hour a week with lower music and lights, and staff free to help.",
        C,
        EXT,
    ),
    (
        "IT",
        "Tablets for engineers to show customers the fix",
        "Customers do not trust a repair they cannot see explained.",
        "Give engineers tablets with before-and-after photos to walk customers through the work.",
        T,
        "Field Service",
    ),
    (
        "Logistics",
        "Pallets labelled by aisle for faster shelf-filling",
        "Store teams spend the first hour of the day sorting deliveries instead of serving.",
        "Pack and label pallets in the order of the store's aisles.",
        G,
        "Stores",
    ),
    (
        "Customer Service",
        "Shared list of answers agents found helpful",
        "Each agent invents their own explanation for the same ten questions.",
        "A short shared page of explanations that worked, written by agents.",
        T,
        "Customer Service",
    ),
    (
        "Field Service",
        "Text the customer when the engineer is 30 minutes away",
        "Customers wait by the door for hours.",
        "Send an automatic text when the engineer sets off to them.",
        C,
        EXT,
    ),
    (
        "Sales",
        "Stop the follow-up calls customers never asked for",
        "Customers complain about repeated sales calls after a purchase.",
        "One follow-up call at most, and only if the customer ticks a box.",
        G,
        EXT,
    ),
    (
        "People & Culture",
        "Thank-you notes for colleagues who helped another team",
        "Help between teams goes unnoticed and slowly stops.",
        "A simple way to send a thank-you that the colleague's manager also sees.",
        C,
        "Logistics",
    ),
    (
        "Finance",
        "Pay suppliers of small parts on time",
        "A small supplier held back parts because we paid late, and customers waited.",
        "Pay suppliers under a set size within 14 days.",
        C,
        "Field Service",
    ),
    (
        "IT",
        "Single sign-on for store systems",
        "Store staff log in to five systems each morning and forget passwords weekly.",
        "One sign-in for all store systems.",
        G,
        "Stores",
    ),
    (
        "Stores",
        "Let staff fix a customer's problem on the spot up to a set amount",
        "Customers are sent home to call head office for things staff could sort out.",
        "Give every store a small budget to make things right, no form needed.",
        C,
        EXT,
    ),
    (
        "Customer Service",
        "Call loyal customers to learn what to keep doing",
        "We only call customers when something went wrong.",
        "Each month, call ten long-standing customers and ask what we must never change.",
        L,
        EXT,
    ),
    (
        "Logistics",
        "Photos of the delivered item at the door",
        "Customers dispute deliveries and we cannot show what happened.",
        "Drivers take a photo at hand-over and the customer gets it by text.",
        C,
        EXT,
    ),
    (
        "IT",
        "Faster laptops for the contact centre",
        "Slow machines make customers wait while screens load.",
        "Replace the oldest contact-centre laptops first.",
        G,
        "Customer Service",
    ),
    (
        "Field Service",
        "Photo guide for first-time setup",
        "Customers set up our product wrongly and call us the next day.",
        "A one-page photo guide in the box.",
        T,
        EXT,
    ),
    (
        "Customer Service",
        "Return calls promised within the hour, or say when",
        "Customers are told 'someone will call you back' and nobody does.",
        "Every callback gets a time; if we miss it, the agent calls to say so.",
        C,
        EXT,
    ),
    (
        "Sales",
        "Quotes in plain language",
        "Customers cannot compare our quotes because of jargon.",
        "One-page quotes with what is included in everyday words.",
        T,
        EXT,
    ),
    (
        "Finance",
        "Let customers choose their payment date",
        "Customers miss payments because the date falls before payday.",
        "Offer any date in the month for direct debits.",
        C,
        EXT,
    ),
    (
        "Stores",
        "Text the customer when a click-and-collect order is really ready",
        "Customers arrive on the 'ready' text and wait while staff find the order.",
        "Send the text only when the order is on the collection shelf.",
        G,
        EXT,
    ),
    (
        "Logistics",
        "One phone number for store teams to reach the warehouse",
        "Stores call three numbers to find out where stock is.",
        "One number, answered by whoever is on shift.",
        G,
        "Stores",
    ),
]

# How far each idea got, in order: a realistic spread, with the final state last.
JOURNEYS = (
    [
        [Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS, Status.IMPLEMENTED],
    ]
    * 13
    + [
        [Status.UNDER_REVIEW, Status.IMPLEMENTED],  # already done: the fast track
    ]
    + [
        [Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS],
    ]
    * 5
    + [
        [Status.UNDER_REVIEW, Status.APPROVED],
    ]
    * 4
    + [
        [Status.UNDER_REVIEW],
    ]
    * 5
    + [
        [],  # still submitted
    ]
    * 6
    + [
        [Status.UNDER_REVIEW, Status.DECLINED],
        [Status.DECLINED],
        [Status.UNDER_REVIEW, Status.DECLINED],
        [Status.DECLINED, Status.UNDER_REVIEW],  # reopened
    ]
    + [
        [Status.MERGED],
        [Status.UNDER_REVIEW, Status.MERGED],
    ]
)

NOTES = {
    Status.UNDER_REVIEW: "Picked up for review.",
    Status.APPROVED: "Approved: worth doing now, no pilot needed.",
    Status.IN_PROGRESS: "Work has started.",
    Status.DECLINED: "Declined for now: the system it needs is being replaced this year. "
    "We will reopen it then.",
}
IMPLEMENTED_NOTES = [
    "Live in every region. Repeat calls about this fell by a third in the first month.",
    "Done. Stores say customers no longer arrive before the goods.",
    "In place since the start of the month; colleagues stopped asking the help desk.",
    "Rolled out. Customers mention it unprompted in reviews.",
]
# What changed, for the ideas whose journey ends in practice: the stories "What changed"
# tells (the general notes above stand in for any idea not named here).
EVIDENCE = {
    "Call back customers who cancelled, every month, with no script": "Every team lead now "
    "calls five leavers a month. The summaries led to two fixes in billing already.",
    "Give stores a live view of deliveries that are running late": "Stores see late vans on "
    "the route tracker and ring customers before they set off; wasted trips have all but "
    "stopped.",
    "Reset a password without calling the help desk": "Self-service reset is live. Engineers "
    "unlock their own accounts in a minute instead of waiting twenty on hold.",
    "Pay field engineers' expenses within five days": "Small claims are approved automatically "
    "and paid in the weekly run. Engineers buy the part the customer needs on the spot.",
    "A real person answers the store phone before the fourth ring": "Calls ring in the store "
    "first. Local questions are answered in under a minute instead of twenty.",
    "Explain a cancelled delivery in plain words": "The new message says what happened, what we "
    "will do and when. Calls asking what 'order status changed' means dropped by two thirds.",
    "Short video on resetting the boiler display": "The 60-second video goes out with every "
    "installation. Call-outs for the display fault fell by a third.",
    "New joiners spend a day with the front line": "Every new colleague now shadows a store or "
    "the contact centre in their first month; they say it is the best day of their induction.",
    "Stop asking customers for the same details twice": "The sales form goes straight to "
    "scheduling. Installation calls only to book a time, and customers notice.",
    "One screen for the contact centre instead of four": "Agents see order, delivery, billing "
    "and notes on one screen. Calls are shorter and customers no longer wait in silence.",
    "Tell customers the delivery window the evening before": "A two-hour window goes out by "
    "text the evening before. Customers no longer take a whole day off to wait.",
    "Let agents refund up to 50 without approval": "Agents refund small amounts during the call. "
    "Customers get their money back the same day; the monthly sample found no misuse.",
    "Invoices a customer can read": "The new invoice has plain names and a one-line summary. "
    "Calls about invoices fell by a quarter.",
    "Be a customer of our own online shop once a month": "Store managers place one real order "
    "a month. Their reports fixed the click-and-collect confirmation and two confusing pages.",
}
COMMENTS = [
    "Yes — this happens to us every week.",
    "We tried something like it in the north; happy to share what we learnt.",
    "This would save our team hours.",
    "Who would own this? Happy to help.",
    "Customers asked me for exactly this yesterday.",
    "Could we start with one region and go everywhere next month?",
]


def seed_ideas(now: datetime | None = None) -> None:
    """Add the demo ideas, votes, comments and histories. Expects the demo company."""
    now = now or utcnow()
    rng = random.Random(7)
    people = list(db.session.scalars(sa.select(User).where(User.is_active)))
    by_department: dict[str, list[User]] = {}
    for person in people:
        by_department.setdefault(person.department.name, []).append(person)
    departments = {d.name: d for d in db.session.scalars(sa.select(Department))}
    managers = [p for p in people if p.is_manager or p.is_admin]
    # Follows ideas by hand too, to hear how they end (docs/product.md, "Following an idea").
    follower = next((p for p in people if p.email == "employee@example.com"), None)
    demo_author = {
        "Customer Service": "employee@example.com",
        "Logistics": "backoffice@example.com",
    }

    created = []
    owned: list[Idea] = []
    for index, (entry, journey) in enumerate(zip(IDEAS, JOURNEYS, strict=True)):
        home, title, problem, proposal, lens, benefits = entry
        submitted, moments = _timeline(rng, now, journey, stalled=index % 3 == 0)
        preferred = demo_author.get(home) if index < 12 else None
        colleagues = by_department[home]
        author = next((p for p in colleagues if p.email == preferred), rng.choice(colleagues))
        stage_id, compass = customer_side(title)
        draft = services.IdeaDraft(
            title,
            problem,
            proposal,
            lens,
            departments[benefits] if benefits else None,
            journey_stage_id=stage_id,
            compass=compass,
            name_hidden=title in NAME_HIDDEN,
        )
        idea = services.submit_idea(author, draft, now=submitted)
        created.append(idea)

        def later(hours: int, start: datetime = submitted) -> datetime:
            return min(now, start + timedelta(hours=hours))

        for voter in rng.sample([p for p in people if p.id != author.id], k=rng.randint(0, 14)):
            services.set_vote(voter, idea, True, now=later(rng.randint(1, 200)))
        for text in rng.sample(COMMENTS, k=rng.randint(0, 3)):
            services.add_comment(rng.choice(people), idea, text, now=later(rng.randint(2, 300)))
        if follower is not None and index % 4 == 1:
            services.set_following(follower, idea, True, now=later(1))

        for step, moment in zip(journey, moments, strict=True):
            decision = services.Decision(to=step, note=NOTES.get(step, ""))
            if step is Status.IMPLEMENTED:
                note = EVIDENCE.get(title, rng.choice(IMPLEMENTED_NOTES))  # rng used alike
                decision = services.Decision(step, note=note, implemented_on=moment.date())
            elif step is Status.MERGED:
                target = created[15]  # still in progress: open, so it can take the votes
                decision = services.Decision(step, note="Same idea as this one.", merge_into=target)
            services.change_status(rng.choice(managers), idea, decision, now=moment)
        if journey and journey[-1] is Status.IN_PROGRESS:
            owner = rng.choice(people)
            if not owned:  # the demo employee owns one, to see Ideas I own
                owner = next((p for p in people if p.email == "employee@example.com"), owner)
            services.set_owner(managers[0], idea, owner, now=moments[-1])
            next_step, note = NEXT_STEPS[len(owned) % len(NEXT_STEPS)]
            services.record_progress(
                owner,
                idea,
                services.Progress(
                    next_step, (now + timedelta(days=7 + 7 * len(owned))).date(), note
                ),
                now=later(1, moments[-1]),
            )
            owned.append(idea)
    _seed_lookalikes(by_department, departments, now)
    db.session.flush()


# Ideas sent lately that are much like earlier ones, worded otherwise: the review queue names
# the earlier idea under each (docs/product.md, "Similar ideas and duplicates"), one of them
# put into practice already, one still open.
LOOKALIKES = [
    (
        "Field Service",
        "Let engineers reset their own password",
        "Engineers locked out of their accounts wait on hold for the help desk instead of "
        "serving customers.",
        "A reset by text message to the phone number we hold for them.",
        T,
        "Field Service",
    ),
    (
        "Customer Service",
        "A quiet hour in stores for customers who find crowds hard",
        "Busy, noisy stores keep some customers with disabilities away at the times they could "
        "come.",
        "One hour a week with the music off, the lights lower and fewer announcements.",
        C,
        "Stores",
    ),
]


def _seed_lookalikes(
    by_department: dict[str, list[User]], departments: dict[str, Department], now: datetime
) -> None:
    rng = random.Random(11)  # of its own: the ideas above stay as they were
    for home, title, problem, proposal, lens, benefits in LOOKALIKES:
        draft = services.IdeaDraft(title, problem, proposal, lens, departments[benefits])
        when = now - timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 20))
        services.submit_idea(rng.choice(by_department[home]), draft, now=when)


# The owners' next steps, and a progress note, for the ideas in progress.
NEXT_STEPS = [
    ("Brief the evening shift", "Day shift has it running; evening shift next."),
    ("Agree the wording with Legal", "First draft sent to Legal."),
    ("Order the shelf labels", "Tried by hand in two stores first: it works."),
]


def _timeline(
    rng: random.Random, now: datetime, journey: list[Status], *, stalled: bool
) -> tuple[datetime, list[datetime]]:
    """When an idea was submitted and when each step of its journey happened.

    Settled ideas spread over six months; open ones mostly moved recently, and every third
    open one has stood still for over a month, so the review queue has stalled ideas to show.
    """
    settled = bool(journey) and not journey[-1].is_open
    if settled:
        last = now - timedelta(days=rng.randint(1, 170), hours=rng.randint(0, 20))
    elif stalled:
        last = now - timedelta(days=rng.randint(35, 90), hours=rng.randint(0, 20))
    else:
        last = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 20))
    submitted = last - timedelta(days=rng.randint(3, 40)) if journey else last
    span = last - submitted
    moments = [submitted + span * (step + 1) / len(journey) for step in range(len(journey))]
    return submitted, moments
