package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/storyline/storyline/cluster"
	"github.com/storyline/storyline/feeds"
	"github.com/storyline/storyline/store"
	"github.com/storyline/storyline/store/storetest"
)

// TestEditWaitsForTheClusterer: while one instance clusters a pending
// story, another saves an edit of it. The edit waits for the clustering
// to commit, then is handed back as an edit of a clustered story, so
// that the statistics follow it.
func TestEditWaitsForTheClusterer(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	leader, follower := dbs[0], dbs[1]
	f, err := leader.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	e := feeds.Entry{ID: "1", Title: "Harbour bridge closed", Text: "storm", Published: t0}
	if _, err := storetest.SavePoll(ctx, leader, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{e}}); err != nil {
		t.Fatal(err)
	}
	read, cont, clustered := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		clustered <- leader.WriteTx(ctx, func(tx store.Tx) error {
			docs, err := tx.PendingDocs(ctx, 10)
			if err != nil || len(docs) != 1 {
				return err
			}
			close(read)
			<-cont
			id, _ := store.EntryID(docs[0].ID)
			if err := tx.Join(ctx, id, 1); err != nil {
				return err
			}
			if err := tx.MarkClustered(ctx, id); err != nil {
				return err
			}
			return tx.SaveTopic(ctx, cluster.TopicState{ID: 1, First: t0, Last: t0})
		})
	}()
	<-read
	e.Title = "Harbour bridge reopens"
	saved := make(chan []store.Edit, 1)
	saveErr := make(chan error, 1)
	go func() {
		saveErr <- follower.WriteTx(ctx, func(tx store.Tx) error {
			_, edits, err := tx.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{e}})
			saved <- edits
			return err
		})
	}()
	early := false
	select {
	case <-saved:
		early = true
	case <-time.After(300 * time.Millisecond):
	}
	close(cont)
	if err := <-clustered; err != nil {
		t.Fatal(err)
	}
	if err := <-saveErr; err != nil {
		t.Fatal(err)
	}
	if early {
		t.Error("the edit was saved while the story was being clustered")
	} else if edits := <-saved; len(edits) != 1 || edits[0].Was.Title != "Harbour bridge closed" {
		t.Errorf("edits %+v; want the clustered story's edit from its clustered words", edits)
	}
}

// TestPruneAndEditDoNotDeadlock: one instance prunes an entry (deleting
// it, then clustering) while another saves an edit of it (updating it,
// then clustering the edit): they take the rows and the clustering in the
// same order, so one waits for the other and both succeed.
func TestPruneAndEditDoNotDeadlock(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	f, _ := a.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	e := feeds.Entry{ID: "1", Title: "Harbour bridge closed", Published: t0}
	if _, err := storetest.SavePoll(ctx, a, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{e}}); err != nil {
		t.Fatal(err)
	}
	storetest.ClusterStories(t, a, false)
	es, _ := a.Entries(ctx, store.EntryQuery{})
	saved, pruning, editDone := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		e.Title = "Harbour bridge reopens"
		editDone <- b.WriteTx(ctx, func(tx store.Tx) error {
			if _, _, err := tx.SavePoll(ctx, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{e}}); err != nil {
				return err
			}
			close(saved)
			<-pruning
			time.Sleep(100 * time.Millisecond) // the prune is waiting by now
			_, err := tx.ClusterGeneration(ctx)
			return err
		})
	}()
	<-saved
	err := a.WriteTx(ctx, func(tx store.Tx) error {
		close(pruning)
		if _, err := tx.DeleteEntries(ctx, []int64{es[0].ID}); err != nil {
			return err
		}
		_, err := tx.ClusterGeneration(ctx)
		return err
	})
	if err != nil {
		t.Errorf("prune: %v", err)
	}
	if err := <-editDone; err != nil {
		t.Errorf("edit: %v", err)
	}
}

// TestReclusterWithAPollInBetween: a poll another instance commits after a
// recluster's reset is among the stories the recluster reads; marking each
// story it clusters leaves none pending and none clustered twice.
func TestReclusterWithAPollInBetween(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	a, b := dbs[0], dbs[1]
	f, _ := a.AddFeed(ctx, store.NewFeed{URL: "https://a.example/feed"})
	one := feeds.Entry{ID: "1", Title: "Harbour bridge closed", Published: t0}
	if _, err := storetest.SavePoll(ctx, a, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{one}}); err != nil {
		t.Fatal(err)
	}
	storetest.ClusterStories(t, a, false)
	err := a.WriteTx(ctx, func(tx store.Tx) error {
		last, err := tx.ResetClustering(ctx)
		if err != nil {
			return err
		}
		if _, err := storetest.SavePoll(ctx, b, store.PollResult{FeedID: f.ID, PolledAt: t0, Status: 200, Entries: []feeds.Entry{
			one, {ID: "2", Title: "Ferry resumes", Published: t0}}}); err != nil {
			return err
		}
		c := cluster.New(cluster.DefaultConfig(), &cluster.State{LastTopicID: last})
		docs, err := tx.AllDocs(ctx)
		if err != nil {
			return err
		}
		m := store.Memberships(ctx, tx)
		for _, d := range docs {
			if err := c.Add(d).Apply(m); err != nil {
				return err
			}
			id, _ := store.EntryID(d.ID)
			if err := tx.MarkClustered(ctx, id); err != nil {
				return err
			}
		}
		if err := c.Changed(func(ts cluster.TopicState) error { return tx.SaveTopic(ctx, ts) }); err != nil {
			return err
		}
		if _, err := tx.SaveClusterCounters(ctx, store.ClusterCounters{Docs: int64(len(docs)), LastTopicID: c.LastTopicID()}); err != nil {
			return err
		}
		return tx.KeepTopicIDs(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var pending, members int
	if err := a.pool.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM pending_entries), (SELECT COUNT(*) FROM topic_entries)").Scan(&pending, &members); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || members != 2 {
		t.Errorf("after the recluster: %d pending, %d memberships; want 0 and 2", pending, members)
	}
}
