package dist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/veloxlabs/velox/prover"
)

// keyFiles are the files of a key directory a worker needs; meta.json goes
// last, so its presence in the bucket means the others are complete.
var keyFiles = []string{"pk.bin", "vk.bin", "meta.json"}

func keysBucket(ctx context.Context, js jetstream.JetStream) (jetstream.ObjectStore, error) {
	os, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: KeysBucket,
		Description: "Velox circuit keys for prover workers", Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("dist: keys bucket: %w", err)
	}
	return os, nil
}

// PublishKeys puts the key directory of k (under keyRoot, as
// prover.LoadOrSetup lays it out) into the keys bucket, unless the bucket
// already holds the same keys.
func PublishKeys(ctx context.Context, js jetstream.JetStream, keyRoot string, k *prover.Keys) error {
	store, err := keysBucket(ctx, js)
	if err != nil {
		return err
	}
	id := CircuitID(k)
	kd := prover.KeyDir(keyRoot, k.Config, k.CircuitHash)
	meta, err := os.ReadFile(filepath.Join(kd, "meta.json"))
	if err != nil {
		return fmt.Errorf("dist: publishing keys: %w", err)
	}
	if have, err := store.GetBytes(ctx, id+"/meta.json"); err == nil && bytes.Equal(have, meta) {
		return nil
	}
	for _, name := range keyFiles {
		f, err := os.Open(filepath.Join(kd, name))
		if err != nil {
			return fmt.Errorf("dist: publishing keys: %w", err)
		}
		_, err = store.Put(ctx, jetstream.ObjectMeta{Name: id + "/" + name}, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("dist: publishing %s/%s: %w", id, name, err)
		}
	}
	return nil
}

// PublishedCircuits lists the circuits whose keys are in the bucket.
func PublishedCircuits(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	store, err := js.ObjectStore(ctx, KeysBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dist: keys bucket: %w", err)
	}
	infos, err := store.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dist: listing keys: %w", err)
	}
	var ids []string
	for _, in := range infos {
		if id, ok := strings.CutSuffix(in.Name, "/meta.json"); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// LoadKeys loads the keys of circuit id from keyRoot, first fetching them
// from the keys bucket if keyRoot does not hold them. It compiles the
// circuit and checks the keys were made for it.
func LoadKeys(ctx context.Context, js jetstream.JetStream, keyRoot, id string) (*prover.Keys, error) {
	cfg, prefix, err := ParseCircuitID(id)
	if err != nil {
		return nil, err
	}
	ccs, hash, err := prover.Compile(cfg)
	if err != nil {
		return nil, err
	}
	kd := prover.KeyDir(keyRoot, cfg, hash)
	if filepath.Base(kd) != id {
		return nil, fmt.Errorf("dist: circuit %s: this build compiles %v to hash %x…, not %s (node and worker run different Velox versions?)", id, cfg, hash[:6], prefix)
	}
	k, err := prover.Load(kd, cfg, ccs, hash, nil)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, prover.ErrNoKeys) {
		return nil, err
	}
	if err := fetchKeys(ctx, js, id, kd); err != nil {
		return nil, err
	}
	return prover.Load(kd, cfg, ccs, hash, nil)
}

// fetchKeys copies a circuit's keys from the bucket into kd, atomically.
func fetchKeys(ctx context.Context, js jetstream.JetStream, id, kd string) error {
	store, err := js.ObjectStore(ctx, KeysBucket)
	if err != nil {
		return fmt.Errorf("dist: no keys for %s here or in the %s bucket: %w", id, KeysBucket, err)
	}
	if err := os.MkdirAll(filepath.Dir(kd), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(kd), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, name := range keyFiles {
		if err := store.GetFile(ctx, id+"/"+name, filepath.Join(tmp, name)); err != nil {
			return fmt.Errorf("dist: fetching %s/%s: %w", id, name, err)
		}
	}
	_ = os.RemoveAll(kd)
	return os.Rename(tmp, kd)
}
