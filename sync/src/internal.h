/*
 * Private interfaces of the sync module, shared by its .c files (and reached by the
 * unit tests and the fuzz target). Layers, bottom up:
 *   util.c    strings, hex, hashing, device ids, segment names
 *   folder.c  the folder's files, reached without following links (a hostile remote
 *             chooses every byte and name in it)
 *   crypto.c  awsync.json, key derivation and key file, sealed (compressed + encrypted
 *             + authenticated) files
 *   format.c  segment and manifest encoding and parsing (plaintext side)
 *   repo.c    the git repository: commits, remotes, fetch/merge/push, working tree
 *   state.c   cursors and per-device status kept in the store ("sync" state key)
 *   export.c  this device's changes -> a new segment
 *   compact.c this device's older segments and packs -> one pack (docs/sync-format.md §7a)
 *   import.c  other devices' segments -> remote buckets; restore
 *   sync.c    aw_sync_* rounds (what the node and `awnode sync push|pull|run` run),
 *             status JSON
 *   admin.c   aw_sync_* folder operations of `awnode sync` (init, join, remotes,
 *             forget, restore, inspect)
 *   archive.c aw_archive_* (docs/archive.md), on top of crypto.c and format.c
 * The command lines themselves are in node/cli/ (sync*.c, archive.c).
 */
#ifndef AW_SYNC_INTERNAL_H
#define AW_SYNC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aw/buf.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/mem.h"
#include "aw/storage.h"
#include "aw/sync.h"
#include "aw/time.h"

#define AWS_VERSION 3                  /* highest format version read and written (manifests) */
#define AWS_GROUP_VERSION 1            /* awsync.json's version: unchanged since version 1 */
#define AWS_MANIFEST_PACKS_VERSION 2   /* a manifest that lists packs (older readers must refuse it) */
/* A manifest that the chain may outgrow: segments after its generation, each signed,
 * follow it without a new manifest (docs/sync-format.md §6). Older readers refuse it. */
#define AWS_MANIFEST_TAIL_VERSION 3
#define AWS_KEY_BYTES 32
#define AWS_HASH_BYTES 32
#define AWS_HASH_HEX (2 * AWS_HASH_BYTES + 1)
#define AWS_SALT_BYTES 16
#define AWS_SIGN_PK 32                 /* Ed25519 public key of a device */
#define AWS_SIGN_SK 64
#define AWS_SIG_BYTES 64
#define AWS_SIG_HEX (2 * AWS_SIG_BYTES + 1)
#define AWS_CHUNK 65536                /* plaintext bytes per secretstream message */
/* Size bounds of the format (docs/sync-format.md §4). Whoever holds a remote chooses
 * every byte that reaches the folder, so nothing is read, inflated or decompressed
 * beyond these. Writers cut their output so that the plaintext of one file stays
 * within AWS_MAX_WRITE_PLAIN, which keeps the sealed file below AWS_MAX_FILE however
 * badly zstd does (worst case a few hundred bytes per MiB, plus 17 bytes per chunk). */
#define AWS_MAX_FILE (64u * 1024u * 1024u)        /* a sealed file or any blob in the folder */
#define AWS_MAX_PLAIN (256u * 1024u * 1024u)      /* decompressed size a reader accepts */
#define AWS_MAX_WRITE_PLAIN (48u * 1024u * 1024u) /* plaintext a writer puts in one file */
#define AWS_MAX_GROUP_FILE (64u * 1024u)          /* awsync.json */
/* Directories below the folder's top that the layout ever nests (devices/<id>/seg/<shard>,
 * with room to spare): every walk of a tree that is not the checked-out one (a join's
 * check, packing, a push) stops there, so a crafted history cannot recurse without end. */
#define AWS_MAX_TREE_DEPTH 6
#define AWS_MAX_OWN_RECORD (AWS_MAX_WRITE_PLAIN - 65536u) /* event data a segment can carry */
#define AWS_STALE_AFTER_DEFAULT (7LL * 86400)     /* seconds without a publication before a warning */
/* Compaction (compact.c, docs/sync-format.md §7a): plain segments after the newest pack
 * that trigger a new pack (default; [sync] compact_segments), packs of one level merged
 * into one of the next, and the level of a pack too large to merge any further. */
#define AWS_COMPACT_SEGMENTS_DEFAULT 1024
#define AWS_COMPACT_SEGMENTS_MIN 16
#define AWS_COMPACT_TIER 16
#define AWS_PACK_LEVEL_FULL 255
/* Argon2id limits a folder may ask for (awsync.json; `sync init --kdf-ops --kdf-mem`) */
#define AWS_KDF_OPS_MAX 10ULL
#define AWS_KDF_MEM_MIN (8ULL << 20)
#define AWS_KDF_MEM_MAX (1ULL << 30)
#define AWS_MANIFEST "manifest.aws"
#define AWS_GROUP_FILE "awsync.json"
#define AWS_BRANCH "main"

/* ---- util.c ------------------------------------------------------------------- */

/* A copy of s, or of "" for NULL; caller frees. (Formatted strings: aw_mem_printf.) */
char *str_dup(const char *s);
/* The rest of the regular file open at fd (named `what` in messages), refused without
 * reading when larger than max; a failed allocation is an error, not an abort. */
int read_fd(int fd, const char *what, size_t max, unsigned char **out, size_t *len);
bool valid_device_id(const char *id);
void hex_encode(char *out, const unsigned char *in, size_t n);
int hex_decode(unsigned char *out, size_t n, const char *hex);
/* BLAKE2b-256 of data. */
void blake2b_256(unsigned char out[AWS_HASH_BYTES], const void *data, size_t len);
/* "devices/<id>/seg/<gen/1000, 6 digits>/<gen, 12 digits>.aws" relative to the device
 * directory ("seg/..."). */
void segment_name(char *out, size_t n, int64_t generation);
double mono_seconds(void);
/* The sync folder and key file: the given ones copied, a NULL one defaulted to
 * $XDG_DATA_HOME/awnode/sync[-testing] and sync[-testing].key (what aw_sync_open and
 * aw_archive_open share). Caller frees both. */
void sync_paths(char **folder, char **key, const char *given_folder, const char *given_key, bool testing);
/* A fresh UUIDv4 (37 bytes). */
void uuid4(char out[37]);

/* An open-addressing index from event id to position in an array of records whose
 * first member is their int64_t id (export's and restore's per-bucket records). Slots
 * hold position + 1, 0 = empty; the table stays at most half full. */
typedef struct id_index {
	size_t *slots;
	size_t nslots;
} id_index;

/* The slot of id among recs[0..n) (stride bytes apart): *slot - 1 is its record when
 * *slot != 0, otherwise the caller may append the record at n and store n + 1 there.
 * With grow, the table is first enlarged (and rebuilt) when one more record would make
 * it more than half full; without it, NULL when the table is still empty. */
size_t *id_index_slot(id_index *x, const void *recs, size_t stride, size_t n, int64_t id, bool grow);
/* Append a zeroed record holding id to recs (*n records, room for *cap, growing to
 * first_cap, then doubling) and store its position in *slot (from id_index_slot).
 * Returns the array, which may have moved; the new record is the last, at *n - 1. */
void *id_index_append(void *recs, size_t stride, size_t *n, size_t *cap, size_t first_cap, size_t *slot,
		      int64_t id);
void id_index_clear(id_index *x); /* every slot empty, memory kept */
void id_index_free(id_index *x);

/* ---- folder.c ------------------------------------------------------------------ */

/* What a directory or file of the sync folder is, by its place in the layout of
 * docs/sync-format.md §1. */
typedef enum folder_kind {
	AWS_F_BAD = 0,  /* not a name the format defines */
	AWS_F_ROOT,     /* the folder */
	AWS_F_DEVICES,  /* devices/ */
	AWS_F_DEVICE,   /* devices/<id>/ */
	AWS_F_SEG,      /* devices/<id>/seg/ */
	AWS_F_SHARD,    /* devices/<id>/seg/<6 digits>/ */
	AWS_F_ARCHIVE,  /* devices/<id>/archive/ */
	AWS_F_EPOCHS,   /* devices/<id>/epochs/ (key epoch records) */
	AWS_F_FILE,     /* a file the format defines */
} folder_kind;

/* A plain name: not empty, no '/', '\\' or NUL, not starting with '.'. */
bool folder_name_ok(const char *name, size_t n);
/* A device directory's name (valid_device_id, and a plain name). */
bool folder_device_ok(const char *name, size_t n);
/* The kind of entry `name` (n bytes) inside a directory of kind `parent`; AWS_F_BAD
 * when the format defines no such entry, or defines it as the other type. */
folder_kind folder_child(folder_kind parent, const char *name, size_t n, bool is_tree);
/* Is rel ("devices/<id>/manifest.aws") the path of a file the format defines? */
bool folder_path_ok(const char *rel);
/* Read folder/rel without following a symbolic link anywhere below folder; refuses
 * non-regular files and files larger than max before reading. 0, AW_ENOTFOUND,
 * AW_EINVALID or AW_ERROR, message set. *out is NUL-terminated; caller frees. */
int folder_read(const char *folder, const char *rel, size_t max, unsigned char **out, size_t *len);
/* Write folder/rel (which must satisfy folder_path_ok) through a temporary file and
 * a rename, creating missing directories, never following a symbolic link; with
 * `durable`, fsync the file and its directory. */
int folder_write(const char *folder, const char *rel, const void *data, size_t len, bool durable);
/* Remove folder/rel (a format path) if it exists, never following a symbolic link. */
int folder_unlink(const char *folder, const char *rel);

/* ---- crypto.c ----------------------------------------------------------------- */

typedef struct sync_group {
	char group[40];                      /* UUID of the sync group */
	unsigned char salt[AWS_SALT_BYTES];
	unsigned long long opslimit;
	size_t memlimit;
	char key_check[AWS_HASH_HEX];        /* hex; "" until the key is known */
} sync_group;

int crypto_init(void);
/* A new group: random id and salt. */
void group_new(sync_group *g, unsigned long long opslimit, size_t memlimit);
/* Parse awsync.json; refuses unknown versions and out-of-range KDF limits. */
int group_parse(sync_group *g, const char *text, size_t len);
/* Read and parse folder/awsync.json (through folder_read, at most
 * AWS_MAX_GROUP_FILE bytes). AW_ENOTFOUND when the folder has none. */
int group_read(sync_group *g, const char *folder);
/* awsync.json text; caller frees. */
char *group_json(const sync_group *g);
/* Argon2id(passphrase, salt) -> master key. */
int derive_key(unsigned char key[AWS_KEY_BYTES], const sync_group *g, const char *pass, size_t len);
void key_check(char out[AWS_HASH_HEX], const unsigned char key[AWS_KEY_BYTES]);
/* The keys a device holds (docs/sync-format.md §3, §4b): epoch 0's, derived from the
 * passphrase, and those of later key epochs, each named by a random 16-byte id. A ring
 * lives in guarded memory (ring_new; ring_free wipes it). */
#define AWS_EPOCH_ID 16
#define AWS_RING_MAX 32
#define AWS_ARCH_KDF_CTX "awarch01" /* the archive's key pair from epoch 0 (archive.c) */
typedef struct sync_epoch_key {
	int64_t n;                       /* the epoch's number; 0 for the passphrase's key */
	unsigned char id[AWS_EPOCH_ID];  /* zeros for epoch 0 */
	unsigned char key[AWS_KEY_BYTES];
} sync_epoch_key;
typedef struct sync_keyring {
	sync_epoch_key k[AWS_RING_MAX];
	size_t n;
	/* kept when epoch 0 is destroyed: what an archive keyed from the sync key needs */
	bool has_archive;
	unsigned char archive[AWS_KEY_BYTES];
} sync_keyring;

sync_keyring *ring_new(void);
void ring_free(sync_keyring *r);
/* Key file: 0600, outside the folder. Load checks the group and epoch 0's key check. */
int ring_load(sync_keyring *ring, const char *path, const sync_group *g);
int ring_save(const char *path, const sync_group *g, const sync_keyring *ring);
/* Add a key (id NULL for epoch 0); a key already held is not added twice. */
void ring_add(sync_keyring *r, int64_t n, const unsigned char id[AWS_EPOCH_ID], const unsigned char key[AWS_KEY_BYTES]);
/* The key of epoch id (NULL: epoch 0), or NULL. */
const sync_epoch_key *ring_find(const sync_keyring *r, const unsigned char id[AWS_EPOCH_ID]);
const sync_epoch_key *ring_newest(const sync_keyring *r);
/* Forget every key but epoch id's (keeping the archive's seed when epoch 0 goes);
 * true when something was forgotten. */
int ring_keep_only(sync_keyring *r, const unsigned char id[AWS_EPOCH_ID]);
void archive_seed_derive(unsigned char seed[AWS_KEY_BYTES], const unsigned char master[AWS_KEY_BYTES]);
/* The archive's seed from the key file: derived from epoch 0, or kept after it. */
int archive_seed_load(unsigned char seed[AWS_KEY_BYTES], const char *path, const sync_group *g);
/* A key file holding only epoch 0's key (init, join). */
int key_save(const char *path, const sync_group *g, const unsigned char key[AWS_KEY_BYTES]);

/* The device key: an Ed25519 key pair that signs what this device publishes
 * (docs/sync-format.md §4a), kept next to the sync key as `<sync key>-device` (mode
 * 0600; "sync.key" -> "sync-device.key"). With create, a missing file is made (a new
 * key pair); otherwise AW_ENOTFOUND. */
char *device_key_path(const char *key_path);
int device_key_load(unsigned char pk[AWS_SIGN_PK], unsigned char sk[AWS_SIGN_SK], const char *key_path,
		    bool create);
/* Ed25519 signature of the BLAKE2b of data, bound to (group, device, name); verify returns 0 when it
 * holds. */
void sign_bytes(unsigned char sig[AWS_SIG_BYTES], const unsigned char sk[AWS_SIGN_SK], const char *group,
		const char *device, const char *name, const void *data, size_t len);
int verify_bytes(const unsigned char sig[AWS_SIG_BYTES], const unsigned char pk[AWS_SIGN_PK], const char *group,
		 const char *device, const char *name, const void *data, size_t len);

/* A sealed file: zstd-compressed, then encrypted with secretstream XChaCha20-Poly1305
 * under a subkey of the master key, every message bound to (device, name). */
int seal_file(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
	     const void *plain, size_t len);
/* Verify, decrypt and decompress. Errors (message set): AW_EINVALID for anything that
 * fails authentication or is malformed or would decompress beyond AWS_MAX_PLAIN;
 * AW_ERROR when memory runs out. out->data is NUL-terminated. */
int unseal_file(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
	       const void *file, size_t len);
/* Sealed under an epoch's key: version 1's container for epoch 0, else one naming the
 * epoch (docs/sync-format.md §4). */
int seal_epoch(aw_buf *out, const sync_epoch_key *k, const char *device, const char *name, const void *plain,
	       size_t len);
/* Which epoch a sealed file names (epoch0 true for version 1's container). */
int sealed_epoch(const void *file, size_t len, unsigned char id[AWS_EPOCH_ID], bool *epoch0);
/* unseal_file with the ring's key for the file's epoch; AW_ENOTFOUND when the ring
 * does not hold it. */
int unseal_ring(aw_buf *out, const sync_keyring *ring, const char *device, const char *name, const void *file,
		size_t len);
/* The same with another bound on the decompressed size (the archive's own files). */
int unseal_file_max(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
		   const void *file, size_t len, size_t max_plain);

/* ---- format.c ----------------------------------------------------------------- */

/* One bucket's changes inside a segment, in order: if reset, the bucket is deleted
 * first; then, when has_meta, it exists (created or updated) with `meta` and the puts
 * and dels apply. No event id appears twice in a block. */
typedef struct sync_block {
	char *bucket;        /* origin bucket id */
	bool reset;
	bool has_meta;
	aw_bucket meta;      /* id, type, client, hostname, created, data, last_updated */
	aw_event *puts;      /* data points into the segment text (not owned) when parsed */
	size_t n_puts, cap_puts;
	int64_t *dels;
	size_t n_dels, cap_dels;
} sync_block;

typedef struct sync_segment {
	char *device_id;
	char *hostname;
	int64_t generation;
	bool has_prev;
	unsigned char prev[AWS_HASH_BYTES]; /* hash of the previous segment file */
	aw_ns written_at;
	/* A pack (docs/sync-format.md §7a) stands for generations first..generation folded
	 * into one file, stored under the name of segment `generation`; prev is then the
	 * hash of segment first - 1 and end the hash of segment `generation` as it was
	 * written, so the chain the manifest's head ends continues through it. */
	bool is_pack;
	int64_t first;
	unsigned char end[AWS_HASH_BYTES];
	/* it ends with an "S" line (every pack does): the writing device's signature,
	 * which the reader checks before parsing (segment_signature, load_segment) */
	bool has_sig;
	sync_block *blocks;
	size_t n_blocks, cap_blocks;
	bool owns_data;      /* puts' data were allocated (encoder side) */
} sync_segment;

sync_block *segment_block(sync_segment *s, const char *bucket);
void block_put(sync_block *b, const aw_event *e); /* copies (encoder side) */
void block_del(sync_block *b, int64_t id);
void segment_encode(aw_buf *out, const sync_segment *s);
/* Parse text in place (text must stay alive while s is used; lines are cut). */
int segment_parse(sync_segment *s, char *text, size_t len);
/* Cut s into parts (in order) whose encodings are at most max bytes each; a block that
 * does not fit is continued in the next part with reset false. Parts share s's header
 * fields and borrow its blocks' contents (s must outlive them); the caller sets each
 * part's generation and prev, and frees the array with segment_parts_free. A part
 * that would have to exceed max on its own (one record too large) is an error
 * (AW_EINVALID). */
int segment_split(sync_segment **parts, size_t *n, const sync_segment *s, size_t max);
void segment_parts_free(sync_segment *parts, size_t n);
void segment_free(sync_segment *s);
/* The hash the chain has after s, whose file hashes to `hash`: that hash for a segment,
 * the recorded end for a pack (docs/sync-format.md §7a). */
static inline const unsigned char *segment_chain_hash(const sync_segment *s, const unsigned char *hash)
{
	return s->is_pack ? s->end : hash;
}
int64_t segment_records(const sync_segment *s);

/* A pack as a manifest lists it: the generations it covers, its level (0 = folded from
 * plain segments, n + 1 = merged from packs of level n, AWS_PACK_LEVEL_FULL = never
 * merged again) and its plaintext size (what a merge would have to hold). */
typedef struct sync_pack {
	int64_t first, last;
	int level;
	int64_t bytes;
} sync_pack;

typedef struct sync_manifest {
	char *device_id;
	char *hostname;
	int64_t generation;
	unsigned char head[AWS_HASH_BYTES]; /* hash of segment `generation`'s file */
	aw_ns written_at;
	char *software;
	aw_bucket *buckets;  /* id, type, client, hostname, created */
	size_t n_buckets;
	/* the settings this device changed last (docs/sync-format.md §6): {key: {"deleted",
	 * "hlc", "hostname", "value"}}; NULL when none. Owned (a reference). */
	json_t *settings;
	/* the device's packs, oldest first, disjoint, within 1..generation; every other
	 * generation up to `generation` that no pack covers is a plain segment */
	sync_pack *packs;
	size_t n_packs;
	int version;
	/* version 2: the device's signing key, and the manifest's signature (over its text
	 * with the signature's hex digits replaced by zeros, manifest_verify) */
	bool has_sig;
	unsigned char signing_key[AWS_SIGN_PK];
	unsigned char sig[AWS_SIG_BYTES];
	/* Not part of the text: where the device's chain ends. manifest_parse sets it to
	 * `generation` and `head`; for a version-3 manifest, manifest_find_tail moves it to
	 * the newest of the signed segments that follow (docs/sync-format.md §6), and
	 * chain_files runs to it. `last_hash` is the hash of file `last` (the manifest's
	 * head while last == generation). */
	int64_t last;
	unsigned char last_hash[AWS_HASH_BYTES];
} sync_manifest;

char *manifest_json(const sync_manifest *m);
/* The signed text of m (version 2): manifest_json with m's signing key and a signature
 * by sk bound to (group, device, "manifest.aws"). Caller frees. */
char *manifest_signed_json(sync_manifest *m, const unsigned char sk[AWS_SIGN_SK], const char *group);
/* Check the signature of a parsed version-2 manifest against its text and its own
 * signing key (whether that key is the device's is the importer's business). */
int manifest_verify(const sync_manifest *m, const char *text, size_t len, const char *group);
/* The signature of a segment's text from its last line ("S <hex>"), and the length of
 * what it signs; -1 when there is none. */
int segment_signature(const char *text, size_t len, unsigned char sig[AWS_SIG_BYTES], size_t *signed_len);
/* Append the "S" line that signs text (a segment's encoding) as file `name`. */
void segment_sign(aw_buf *text, const unsigned char sk[AWS_SIGN_SK], const char *group, const char *device,
		  const char *name);
int manifest_parse(sync_manifest *m, const char *text, size_t len);
void manifest_free(sync_manifest *m);

/* Bucket metadata as canonical JSON (used in segments and for change detection). */
char *meta_json(const aw_bucket *b);
int meta_parse(aw_bucket *b, json_t *o);
/* A deep copy of the metadata a segment carries (data "{}" when empty); caller clears. */
void meta_copy(aw_bucket *d, const aw_bucket *s);

/* ---- repo.c ------------------------------------------------------------------- */

typedef struct sync_repo sync_repo;

typedef struct repo_file {
	const char *path;    /* relative to the folder */
	const void *data;    /* NULL: the file is removed (it must be in HEAD) */
	size_t len;
} repo_file;

typedef struct remote_info {
	char *name;
	char *url;           /* credentials in the URL are masked */
} remote_info;

int repo_git_init(void);
/* Open an existing sync folder (a git repository with a work tree). */
int repo_open(sync_repo **out, const char *folder, const char *ssh_key);
/* Network transfers of this handle stop when *flag becomes non-zero. */
void repo_set_cancel(sync_repo *r, const int *flag);
/* Create a new repository at folder (which must not hold one). */
int repo_create(sync_repo **out, const char *folder, const char *ssh_key);
void repo_close(sync_repo *r);
/* Lock the folder against other awnode processes and threads (blocking). */
int repo_lock(sync_repo *r);

/* Write (or remove) files in the work tree and commit them on top of HEAD. */
int repo_commit(sync_repo *r, const repo_file *files, size_t n, const char *message);
/* Read a file of the HEAD commit (AW_ENOTFOUND if absent). Caller frees. */
int repo_read_head(sync_repo *r, const char *path, unsigned char **out, size_t *len);
bool repo_has_head(sync_repo *r);

int repo_remote_add(sync_repo *r, const char *name, const char *url);
int repo_remote_remove(sync_repo *r, const char *name);
int repo_remotes(sync_repo *r, remote_info **out, size_t *n);
void remotes_free(remote_info *v, size_t n);
/* Fetch `name` and merge it into HEAD (own_device's directory always stays ours). */
int repo_pull(sync_repo *r, const char *name, const char *own_device);
/* Push HEAD to `name`, fetching and merging again when the remote moved (retries). */
int repo_push(sync_repo *r, const char *name, const char *own_device);
/* Does the remote already hold a sync group (a main branch)? fetches it. */
int repo_remote_has_group(sync_repo *r, const char *name, bool *has);
/* Does the repository at `url` hold a sync group (a main branch)? No local state. */
int remote_probe(const char *url, const char *ssh_key, bool *has_group);
/* Keep the folder's objects packed (maintain.c): when loose objects or packs piled up,
 * merge them and the smallest packs into one, so that the packs form a geometric
 * progression; a full repack of what is reachable when that takes in every pack, or
 * always with force. The handle must be closed afterwards (its object database still
 * maps the removed packs). */
int repo_maintain(sync_repo *r, bool force);
/* After a push: the same for the remote `name` when it is a repository on a local path
 * (or file://); other transports are left to their host. */
int repo_maintain_remote(sync_repo *r, const char *name);
/* Sets the last error to "<what>: <libgit2's last error>" and returns AW_ERROR. */
int repo_git_error(const char *what);
/* A set of git object ids: open addressing, cap a power of two, zero ids mark free
 * slots (the zero id is never a member). Zero-initialise; free v when done. */
typedef struct oid_set {
	struct git_oid *v;
	size_t cap, n;
} oid_set;
/* Insert; false when it was there already. On allocation failure the set stops
 * growing and reports every id as new (a walk that uses it only gets slower). */
bool oid_set_add(oid_set *s, const struct git_oid *id);
bool oid_set_has(const oid_set *s, const struct git_oid *id);
/* The folder's libgit2 repository (owned by r). */
struct git_repository *repo_git(sync_repo *r);
/* The directory remote `name` names when it is a local path or file:// URL of an
 * existing directory, else NULL (caller frees). */
char *repo_remote_local_path(sync_repo *r, const char *name);
/* Bring the work tree up to HEAD if an earlier run stopped half way. */
int repo_recover(sync_repo *r);
/* The warning the last repo_pull found about the remote's history (its branch went
 * back to an older commit, or was replaced by an unrelated one), copied into buf; false
 * when there is none. Clears it. */
bool repo_take_warning(sync_repo *r, char *buf, size_t n);

/* ---- state.c ------------------------------------------------------------------ */

typedef struct device_state {
	char *device_id;
	char *hostname;
	int64_t generation;      /* last segment applied */
	unsigned char head[AWS_HASH_BYTES]; /* hash of that segment's file */
	int64_t manifest_generation; /* highest manifest generation seen */
	unsigned char manifest_hash[AWS_HASH_BYTES];
	int64_t events;          /* records applied, total */
	int64_t segments;        /* segments applied, total */
	aw_ns last_import;       /* when a segment was last applied */
	aw_ns last_check;        /* when the device was last looked at */
	aw_ns last_published;    /* written_at of its newest manifest seen (authenticated) */
	char *error;             /* NULL when fine */
	aw_ns error_time;
	bool forgotten;
	json_t *buckets;         /* {origin bucket id: local bucket id} */
	json_t *manifest_buckets; /* [origin ids] from the manifest last seen */
	/* the device's signing key, pinned by the first signed manifest imported (hex);
	 * NULL until then. A later manifest signed with another key is refused. */
	char *signing_key;
	/* the key epoch that revoked it (docs/sync-format.md §4b), remembered here so that a
	 * record deleted from the folder later does not take the revocation back; 0: none */
	int64_t revoked_epoch;
} device_state;

typedef struct sync_state {
	int64_t push_seq;        /* change sequence exported so far */
	int64_t push_generation;
	unsigned char push_head[AWS_HASH_BYTES];
	char *push_hostname;
	char *push_settings;     /* hash (hex) of the settings last published, or NULL */
	char *push_epoch;        /* id (hex) of the epoch this device's chain is sealed under; NULL: 0 */
	json_t *push_buckets;    /* {bucket id: hash of its metadata as last exported} */
	aw_ns last_push;
	char *push_error;
	aw_ns last_pull;
	char *pull_error;
	int64_t pushes;
	/* {remote name: {"rollback": message, "rollback_time": ns}}: what a fetch found
	 * wrong with a remote's history (repo_take_warning), kept for the status */
	json_t *remotes;
	device_state *devices;
	size_t n_devices;
} sync_state;

int state_load(sync_state *st, aw_reader *r);
/* Forget the store's deletion records up to seq (best effort: a failure only keeps
 * them longer). */
void prune_tombstones(aw_store *s, int64_t seq);
int state_save(sync_state *st, aw_store *s);
void state_free(sync_state *st);
device_state *state_device(sync_state *st, const char *device_id, bool create);
/* The device `name` names: its id, else the hostname of exactly one device (AW_EINVALID,
 * message set, when several have it); AW_ENOTFOUND, no message, when none. */
int state_find_device(device_state **out, sync_state *st, const char *name);

/* ---- the context (sync.c) and the steps (export.c, import.c) ------------------- */

struct aw_sync {
	aw_store *store;
	char *device_id;
	char *hostname;
	char *folder;
	char *key_path;
	char *ssh_key;
	int64_t compact_segments; /* plain segments that trigger a pack */
	pthread_mutex_t run_mu;
	bool git_ready;      /* holds a libgit2 initialisation (under run_mu) */
	int cancel;          /* read and written with __atomic builtins */
};

bool sync_cancelled(aw_sync *y);

typedef struct sync_ctx {
	aw_sync *y;
	aw_reader *r;
	sync_repo *repo;
	sync_group group;
	sync_keyring *ring;  /* the keys this device holds (key file) */
	const sync_epoch_key *wkey; /* the epoch this device writes under (in ring) */
	sync_state st;
	aw_sync_report *rep;
	/* this device's signing key pair (loaded, or made, by the first export) */
	bool have_sign;
	unsigned char sign_pk[AWS_SIGN_PK];
	unsigned char sign_sk[AWS_SIGN_SK];
	bool compact;        /* this round packs whatever it can (awnode sync compact) */
	/* key epochs (epoch.c): this round moves the device's chain to wkey's epoch (every
	 * file sealed again, docs/sync-format.md §4b); revoked devices are marked in st */
	bool reseal;
	int64_t epoch;       /* the group's current epoch (0 before any rotation) */
} sync_ctx;

/* epoch.c: before the export, read the folder's epoch records, learn the keys this
 * device may hold, choose the epoch it writes under and whether it moves to it. An
 * error stops the round (this device was revoked, or cannot read the current epoch). */
int epoch_step(sync_ctx *c);
/* After the round's export: once the device's own chain is sealed under the current
 * epoch, forget every older key (and rewrite the key file). */
int epoch_settle(sync_ctx *c);
/* Start a new epoch (rotate; or revoke `revoke`, with the group's new passphrase) and
 * commit its record; the next round moves every device to it. */
int epoch_start(sync_ctx *c, const char *revoke, const char *pass, size_t len, int64_t *out_epoch);
/* Join with a passphrase set by a revocation: the newest epoch record whose passphrase
 * block it opens gives the key; AW_EINVALID when none does. */
int epoch_join(sync_keyring *ring, const sync_group *g, const char *folder, const char *pass, size_t len);
/* Parse and verify one epoch record's text as devices/<device>/epochs/<n>.json of
 * group g (its own signature only): 0, or AW_EINVALID (the fuzz target's entry). */
int epoch_record_check(const sync_group *g, const char *device, int64_t n, const char *text, size_t len);
/* Does the folder hold an epoch record that replaced the passphrase (a revocation)? */
bool epoch_passphrase_replaced(const char *folder, const sync_group *g);
/* Ask the next round to start a new epoch (after an archive run: what was archived must
 * become unreadable in sync history too). Best effort. */
void epoch_request_rotation(aw_store *s);
/* The signing key c pins for device (own: this device's own key), or NULL. */
bool epoch_device_key(sync_ctx *c, const char *device, unsigned char pk[AWS_SIGN_PK]);

/* settings.c: this device's settings for its manifest ({key: entry}, caller decrefs)
 * and their hash; another device's manifest settings applied to the store (refused
 * entries counted in the report; AW_ERROR only when the store failed). */
int settings_publishable(sync_ctx *c, json_t **out, char hash[AWS_HASH_HEX]);
int settings_apply(sync_ctx *c, const sync_manifest *m);

/* Load (or make, at the first use) this device's signing key pair into c. */
int ctx_device_key(sync_ctx *c);
/* Open the folder, its group and the key; lock the folder. */
int ctx_open(sync_ctx *c, aw_sync *y, aw_reader *r, aw_sync_report *rep);
void ctx_close(sync_ctx *c);

int export_changes(sync_ctx *c);

/* compact.c. The files of a device's chain that cover generations after `from`, in
 * order: [first, last] per file, a pack's range or one segment's generation; the first
 * may start at or before `from` (a pack that covers it). Caller frees. */
typedef struct chain_file {
	int64_t first, last;
	bool pack;           /* listed as a pack (else one plain segment, first == last) */
	bool tail;           /* a segment after the manifest's generation: signed itself */
} chain_file;
chain_file *chain_files(const sync_manifest *m, int64_t from, size_t *n);

/* What a compaction adds to the export's commit: the pack files to write, the files
 * to remove, and the manifest's new pack list. */
typedef struct compaction {
	aw_buf *sealed;      /* one per pack written */
	char **write_paths;
	size_t n_write;
	char **remove_paths;
	size_t n_remove;
	sync_pack *packs;    /* the manifest's list afterwards */
	size_t n_packs;
	int64_t files_replaced;
} compaction;

/* Plan and build this device's compaction of its chain up to generation `gen` (whose
 * files are in HEAD and listed by `m`, its current manifest; `next`, when not NULL, is
 * the segment the same commit adds after them, which a move to a new key epoch, c->reseal,
 * takes into account): when the plain segments
 * after the newest pack reach the threshold, or always with c->compact, they are
 * folded into a pack; then every run of AWS_COMPACT_TIER packs of one level is merged
 * into one of the next level. Nothing to do leaves *out with the manifest's packs
 * unchanged and nothing to write. Errors leave nothing to free. */
int compact_plan(sync_ctx *c, const sync_manifest *m, const sync_segment *next, compaction *out);
/* The blocks of in[0..n) (consecutive segments of one device, oldest first) folded
 * into out's blocks: applying out does what applying them in order does, from any
 * state they would have been applied to, or any state between two of them. out's puts
 * borrow the inputs' data (out->owns_data stays false). */
void segments_fold(sync_segment *out, const sync_segment *const *in, size_t n);
void compaction_free(compaction *x);
int import_all(sync_ctx *c);
/* A file of devices/<device>/: from HEAD when git has it, else from the work tree. */
int device_file(sync_ctx *c, const char *device, const char *name, unsigned char **out, size_t *len);
/* Read, authenticate and parse segment `gen` of `device` (seg points into text); with
 * signer, its last line must be that key's signature of the rest. */
int load_segment(sync_ctx *c, const char *device, int64_t gen, const unsigned char *signer, aw_buf *text,
		 sync_segment *seg, unsigned char hash[AWS_HASH_BYTES]);
/* The same for the file that covers f: a pack must cover exactly f's range, and a plain
 * segment must not be a pack. With signer (a device's signing key), a pack and a segment of
 * the tail must carry that key's signature (plain segments up to the manifest's
 * generation are authenticated by the signed manifest's hash chain; a pack's content is
 * not chained, and nothing signed names a tail segment's hash, so they are signed
 * themselves). */
int load_chain_file(sync_ctx *c, const char *device, const chain_file *f, const unsigned char *signer,
		    aw_buf *text, sync_segment *seg, unsigned char hash[AWS_HASH_BYTES]);
int read_manifest(sync_ctx *c, const char *device, sync_manifest *m, unsigned char hash[AWS_HASH_BYTES]);
/* For a version-3 manifest m of device: the segments that follow its generation, or
 * `after` when that is later (what an importer has already applied), one generation at
 * a time while the folder has the next one; sets m->last and m->last_hash to the newest
 * found (unchanged when none). With after_hash (the owner, which knows what it
 * published last), the tail is known to reach `after` when that file still hashes so,
 * and only what follows is looked for; otherwise it is looked for from the manifest on.
 * Only whether the files exist and their hashes: their content is verified where the
 * chain is (import.c, verify_range). */
int manifest_find_tail(sync_ctx *c, const char *device, sync_manifest *m, int64_t after,
		       const unsigned char *after_hash);
/* Verify a device's whole chain and import it as this database's own buckets (ids
 * kept); the database must hold no bucket. Sets the export cursor after it. */
int restore_device(sync_ctx *c, const char *device, int64_t *out_events, size_t *out_buckets);

/* The error message of the last failure, formatted into rep. */
void report_error(aw_sync_report *rep, int code, const char *what);

#endif
