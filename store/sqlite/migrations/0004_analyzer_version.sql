-- analyzer: the cluster.AnalyzerVersion that produced the stored clustering
-- (term statistics, centroids). 0 means nothing clustered yet; databases
-- clustered before this column existed were made by version 1.
ALTER TABLE cluster_meta ADD COLUMN analyzer INTEGER NOT NULL DEFAULT 0;
UPDATE cluster_meta SET analyzer = 1 WHERE docs > 0;
