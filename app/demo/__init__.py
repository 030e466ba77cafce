"""The demo shop (`journeys demo`): a believable outdoor-gear shop with ~1,000 customers and a
year of orders, four published journeys, a Shopify source, and live traffic to watch them run.

- people.py, catalog.py: who shops there and what it sells (data);
- population.py: the customers and their orders, from a seeded RNG (pure);
- shopify.py: Shopify-shaped webhook bodies;
- content.py: the journeys and templates, from the starters;
- loader.py: loading it all through the app's services; resetting it;
- traffic.py, habits.py, inbox.py, client.py: the live traffic generator (`journeys demo traffic`).
"""
