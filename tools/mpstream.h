/*
 * mpstream - encode and decode the frames of <mach/perf_stream.h>.
 *
 * Encoding (the guest agent, the tests): write a payload with the
 * mps_enc_* helpers at frame + PERF_STREAM_HDR_SIZE, then mps_frame_seal()
 * fills in the header and its CRC.  Only <stdint.h> and <string.h> needed.
 *
 * Decoding (the host tools): an mps_reader pulls bytes from a callback and
 * returns whole frames whose header and CRC check out, in sequence order.
 * Everything else is counted in struct mps_counts and described through the
 * diagnostic callback; the reader then resynchronises on the next magic.
 */
#ifndef TOOLS_MPSTREAM_H
#define TOOLS_MPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mach/perf_stream.h>

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320) continued from crc; start at 0. */
uint32_t mps_crc32(uint32_t crc, const void *buf, size_t n);

static inline void mps_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void mps_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mps_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t mps_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t mps_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t mps_get64(const uint8_t *p)
{
	return (uint64_t)mps_get32(p) | (uint64_t)mps_get32(p + 4) << 32;
}

/*
 * Field-by-field little-endian codecs; each moves sizeof(struct) bytes,
 * except that the decoders of RECORDS and END headers read the layout of
 * the frame's version: mps_records_size(version) and mps_end_size(version)
 * bytes (a version 1 header has no dropped field: it decodes as 0).  The
 * encoders write the current version.
 */
size_t mps_records_size(uint16_t version);
size_t mps_end_size(uint16_t version);
void mps_enc_meta(uint8_t *p, const struct perf_stream_meta *m);
void mps_dec_meta(const uint8_t *p, struct perf_stream_meta *m);
void mps_enc_records(uint8_t *p, const struct perf_stream_records *r);
void mps_dec_records(const uint8_t *p, uint16_t version, struct perf_stream_records *r);
void mps_enc_record(uint8_t *p, const struct perf_record *r);
void mps_dec_record(const uint8_t *p, struct perf_record *r);
void mps_enc_event_stats(uint8_t *p, const struct perf_event_stats *s);
void mps_dec_event_stats(const uint8_t *p, struct perf_event_stats *s);
void mps_enc_system(uint8_t *p, const struct perf_stream_system *s);
void mps_dec_system(const uint8_t *p, struct perf_stream_system *s);
void mps_enc_cpu(uint8_t *p, const struct perf_stream_cpu *c);
void mps_dec_cpu(const uint8_t *p, struct perf_stream_cpu *c);
void mps_enc_task(uint8_t *p, const struct perf_stream_task *t);
void mps_dec_task(const uint8_t *p, struct perf_stream_task *t);
void mps_enc_end(uint8_t *p, const struct perf_stream_end *e);
void mps_dec_end(const uint8_t *p, uint16_t version, struct perf_stream_end *e);
void mps_enc_range(uint8_t *p, const struct perf_stream_range *r);
void mps_dec_range(const uint8_t *p, struct perf_stream_range *r);

/* Small headers: two u32 (stats, tasks, thread), hist and bucket. */
void mps_enc_pair(uint8_t *p, uint32_t a, uint32_t b);
void mps_enc_hist(uint8_t *p, uint64_t total, uint32_t nbuckets);
void mps_enc_bucket(uint8_t *p, uint64_t lo, uint64_t hi, uint64_t count);

/*
 * mps_frame_seal - fill in the header of the frame whose payload_len bytes
 * of payload already sit at frame + PERF_STREAM_HDR_SIZE, CRC included.
 * Returns the frame's size, or 0 if payload_len exceeds the maximum.
 */
size_t mps_frame_seal(uint8_t *frame, uint16_t type, uint32_t seq, uint32_t payload_len);
/* ... with another version in the header (tests of older streams). */
size_t mps_frame_seal_version(uint8_t *frame, uint16_t version, uint16_t type, uint32_t seq,
                              uint32_t payload_len);

/* mps_type_name - "META" ... "END", or "type?" for an unknown type. */
const char *mps_type_name(uint32_t type);

/* Reading. */

/* Reads up to n bytes into buf: the count, 0 at end of input, -1 on error. */
typedef long (*mps_read_fn)(void *ctx, void *buf, size_t n);

/* A problem found at byte offset of the input, described in msg. */
typedef void (*mps_diag_fn)(void *ctx, uint64_t offset, const char *msg);

struct mps_counts {
	uint64_t frames;        /* good frames returned */
	uint64_t corrupt;       /* runs of bad magic, header or CRC */
	uint64_t truncated;     /* frames cut short by the end of input */
	uint64_t missing;       /* sequence numbers never received */
	uint64_t reordered;     /* good frames whose seq stepped back (dropped) */
	uint64_t bytes_skipped; /* bytes in no good frame */
};

struct mps_frame {
	uint16_t type;
	uint16_t version; /* PERF_STREAM_VERSION_MIN..PERF_STREAM_VERSION: the payload's layout */
	uint32_t seq;
	uint32_t len;
	const uint8_t *payload; /* valid until the next mps_reader_next() */
	uint64_t offset;        /* of the header in the input */
};

struct mps_reader {
	mps_read_fn read;
	void *ctx;
	mps_diag_fn diag;
	void *diag_ctx;
	uint8_t *buf;
	size_t cap, pos, end;
	uint64_t base; /* input offset of buf[0] */
	bool eof, io_error, resyncing, have_seq;
	uint32_t next_seq;
	struct mps_counts c;
};

#define MPS_FRAME 1
#define MPS_EOF 0
#define MPS_EIO (-1)

/* mps_reader_init - 0, or -1 if the frame buffer cannot be allocated. */
int mps_reader_init(struct mps_reader *r, mps_read_fn read, void *ctx, mps_diag_fn diag,
                    void *diag_ctx);
void mps_reader_fini(struct mps_reader *r);

/* mps_reader_next - MPS_FRAME with *f filled, MPS_EOF, or MPS_EIO. */
int mps_reader_next(struct mps_reader *r, struct mps_frame *f);

/* A memory source for mps_reader_init(mps_mem_read, &mem, ...). */
struct mps_mem {
	const uint8_t *p;
	size_t len, pos;
};

long mps_mem_read(void *ctx, void *buf, size_t n);

#endif /* TOOLS_MPSTREAM_H */
