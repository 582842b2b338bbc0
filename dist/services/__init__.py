"""Use cases. Each public function runs in one transaction of the unit of work it is given, and appends
its audit events inside that transaction."""
