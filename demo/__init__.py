"""Demo data for `make run`: a believable WashU, seeded once, through the real services.

- `data`: the content (categories, buildings, organizers, names, event text);
- `seeding`: `demo_seed()`, the rows it derives from a fixed seed, idempotent;
- `scores`: the E-score of the seeded check-ins, awarded by `escore.services`;
- `manage.py seed_demo`: the command.
"""
