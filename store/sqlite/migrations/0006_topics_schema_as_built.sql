-- Migration 0002 was edited after it had shipped (in the first skeleton):
-- databases made by that skeleton lack cluster_meta's last_topic_id, clock
-- and data_version and carry two columns nothing reads (topics.outlets,
-- cluster_meta.config), while databases made since have the edited form.
-- SQL alone cannot add a column only where it is missing, so this step is
-- done in Go (reconcileTopicsSchema in store.go); both kinds of database
-- end with the same columns.
SELECT 1;
