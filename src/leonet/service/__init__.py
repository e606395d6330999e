"""The operator's service decisions and what they cost.

* `spec` -- the scenario tables: ``[[fleets]]`` (terminals, plan, sponsor
  timeline), ``[[sponsors]]``, ``[[policies]]``, ``[[faults]]``, ``[ledger]``.
* `fleets` -- fleet terminals as `~leonet.ground.sites.GroundSites`, and per
  step which are active, what they demand and who pays.
* `costs` -- the cost ledger per sponsor, fleet and calendar month.
* `policy` -- service-area rules (geofences in time): which terminals are denied.
* `faults` -- scheduled and seeded random outages.
"""
