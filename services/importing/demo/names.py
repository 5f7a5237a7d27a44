"""The demo's vocabulary: names of teams and people, and the words of issues and projects."""

from __future__ import annotations

TEAM_NAMES = (
    "Payments", "Checkout", "Data Platform", "Support Tools", "Search", "Mobile", "Identity",
    "Growth", "Billing", "Messaging", "Infrastructure", "Security", "Catalog", "Pricing",
    "Onboarding", "Analytics", "Reliability", "Web", "Partners", "Risk",
)  # fmt: skip
FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
    "Radia", "Dennis", "Sophie", "Tim", "Karen", "Leslie", "Niklaus", "Shafi", "Bjarne", "Hedy",
    "Lynn", "Guido", "Anita", "Robin", "Mary", "Yukihiro", "Adele", "Brian", "Carol", "Jean",
    "Amara", "Kofi", "Mei", "Ravi", "Ines", "Tomasz", "Leila", "Mateo", "Noor", "Sven",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton",
    "Thompson", "Perlman", "Ritchie", "Wilson", "Berners", "Jones", "Lamport", "Wirth",
    "Goldwasser", "Stroustrup", "Lamarr", "Conway", "Rossum", "Borg", "Milner", "Keller",
    "Matsumoto", "Goldberg", "Kernighan", "Shaw", "Sammet", "Okafor", "Chen", "Iyer", "Moreau",
    "Nowak", "Haddad", "Silva", "Rahman", "Lindqvist", "Mensah",
)  # fmt: skip
DOMAIN = "demo.workledger.example"

SUBJECTS = (
    "refund", "retry", "webhook", "ledger", "invoice", "search index", "cache", "token",
    "session", "export", "import", "report", "alert", "queue", "schema", "migration", "timeout",
    "dashboard", "permission", "audit log", "filter", "upload", "checkout", "coupon", "payout",
    "rollout", "feature flag", "backfill", "onboarding email", "password reset",
)  # fmt: skip
TASK_VERBS = (
    "Add", "Speed up", "Remove", "Harden", "Document", "Refactor", "Migrate", "Monitor",
    "Support", "Validate", "Paginate", "Redesign",
)  # fmt: skip
BUG_PHRASES = (
    "{subject} fails for accounts with no email",
    "{subject} shows the wrong total",
    "{subject} times out under load",
    "{subject} is duplicated after a retry",
    "{subject} ignores the user's time zone",
    "{subject} breaks on Safari",
    "Crash when the {subject} is empty",
)
REQUEST_PHRASES = (
    "Please give the finance team access to the {subject}",
    "Can we export the {subject} as CSV?",
    "Customer asks for a weekly {subject} summary",
    "Allow admins to reset a {subject}",
)
INCIDENT_PHRASES = (
    "Elevated error rate on {subject}",
    "{subject} unavailable in eu-west",
    "Latency spike in {subject}",
    "Stuck {subject} jobs",
)
LABELS = (
    "backend", "frontend", "api", "ux", "performance", "security", "tech-debt", "customer",
    "regression", "docs", "infra", "data", "mobile", "a11y", "flaky",
)  # fmt: skip
COMMENTS = (
    "Picked this up.",
    "I can reproduce it on staging.",
    "Pushed a first draft; feedback welcome.",
    "Waiting on the review.",
    "This touches the billing code, looping in the owners.",
    "Added tests for the edge cases.",
    "Smaller than it looked.",
    "Deployed behind a flag.",
    "Customer confirmed the fix.",
    "Not reproducible any more after the last release.",
)
AGING_COMMENTS = (
    "Still on this; the old code path keeps surprising us.",
    "Half done, other work got in the way again.",
    "Need another week, the data migration is slower than planned.",
)
BLOCK_REASONS = (
    "Waiting for access to the production database",
    "Needs a decision from product",
    "Blocked by the vendor's API outage",
    "Waiting for the security review",
    "Design is not final yet",
)
PROJECT_THEMES = (
    ("Refund automation", "REFUND"), ("Checkout redesign", "CHKOUT"),
    ("Search relevance", "SEARCH"), ("Mobile offline mode", "OFFLINE"),
    ("Single sign-on", "SSO"), ("Data warehouse migration", "DWH"),
    ("Invoice engine", "INVOICE"), ("Partner API", "PAPI"), ("Fraud signals", "FRAUD"),
    ("Self-serve onboarding", "ONBOARD"), ("Pricing experiments", "PRICE"),
    ("Notification center", "NOTIFY"), ("Audit trail", "AUDIT"), ("Cost dashboard", "COST"),
    ("Accessibility pass", "ALLY"), ("Multi-currency payouts", "PAYOUT"),
    ("Support macros", "MACRO"), ("Status page", "STATUS"), ("Usage-based billing", "USAGE"),
    ("Catalog import", "CATIMP"),
)  # fmt: skip
MILESTONES = ("Design approved", "First customer", "Beta", "General availability", "Handover")
HEALTH_NOTES = {
    "on_track": ("Steady progress this week.", "Shipped what we planned.", "No surprises."),
    "at_risk": (
        "Scope grew; we are looking at what to cut.",
        "Two people out sick, velocity is down.",
        "Waiting on another team.",
    ),
    "off_track": (
        "We will miss the target date without more people.",
        "Throughput is far below what the plan needs.",
    ),
}
COMPANY_GOALS = (
    "Grow revenue from existing customers",
    "Make the product dependable",
    "Win the mid-market",
    "Ship faster with fewer surprises",
    "Delight new customers in their first week",
)
TEAM_GOALS = (
    "Cut the time to resolve customer bugs",
    "Launch the new flow to every market",
    "Lower the cost of running the platform",
    "Halve the number of paging incidents",
    "Raise adoption of the new features",
    "Make the weekly release boring",
)
