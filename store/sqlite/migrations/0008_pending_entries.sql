-- Saving a poll and clustering its stories are two steps: entries are
-- stored as they are fetched, and listed here until they are clustered, in
-- time order across everything fetched (DB.ClusterPending). A first poll
-- of many feeds whose items span weeks is then clustered as if it had
-- arrived in time order, whichever feed was fetched first.
CREATE TABLE pending_entries (
    entry_id INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE
);
