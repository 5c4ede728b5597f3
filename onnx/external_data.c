/* External tensor data (TensorProto.data_location = EXTERNAL): the bytes live
 * in a file named by the "location" entry, relative to the model's folder,
 * at "offset" for "length" bytes (both optional, decimal strings).
 *
 * The location comes from an untrusted file, so it must not leave the model
 * folder: absolute paths and ".." components are refused outright, and the
 * resolved path (symlinks followed) must still lie inside the resolved
 * folder. Large ranges are mapped read-only rather than copied; small ones,
 * or ranges whose start is not 64-byte aligned, are read into an aligned
 * buffer so that kernels always see aligned weights.
 */
#include "../runtime/alloc.h"
#include "pb_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OR_MMAP_MIN_BYTES (64 * 1024)

typedef struct ext_ref {
    const char *location;
    uint64_t offset;
    uint64_t length;
    bool has_length;
} ext_ref;

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

static int parse_ref(const Onnx__TensorProto *tp, const char *what, ext_ref *ref, char *err,
                     size_t errlen) {
    memset(ref, 0, sizeof *ref);
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const char *key = tp->external_data[i]->key ? tp->external_data[i]->key : "";
        const char *value = tp->external_data[i]->value;
        if (strcmp(key, "location") == 0) {
            ref->location = value;
        } else if (strcmp(key, "offset") == 0) {
            if (!parse_u64(value, &ref->offset))
                return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                                 "%s: invalid external data offset '%s'", what, value ? value : "");
        } else if (strcmp(key, "length") == 0) {
            if (!parse_u64(value, &ref->length))
                return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                                 "%s: invalid external data length '%s'", what, value ? value : "");
            ref->has_length = true;
        }
    }
    if (!ref->location || !ref->location[0])
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s: external data has no location", what);
    return ONNXRUN_OK;
}

/* Refuses absolute paths and any ".." component before touching the disk. */
static int check_location(const char *loc, const char *what, char *err, size_t errlen) {
    if (loc[0] == '/')
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data location '%s' is an absolute path", what, loc);
    for (const char *p = loc; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                             "%s: external data location '%s' leaves the model folder", what, loc);
        p += n;
        if (*p == '/') p++;
    }
    return ONNXRUN_OK;
}

/* Resolves the file and opens it if it lies inside model_dir; *fd_out >= 0
 * on success. */
static int open_inside(const char *model_dir, const char *loc, const char *what, int *fd_out,
                       char *err, size_t errlen) {
    char joined[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    const char *dir = model_dir[0] ? model_dir : ".";
    size_t dlen = strlen(dir), llen = strlen(loc);
    if (dlen + 1 + llen + 1 > sizeof joined)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s: external data path too long", what);
    memcpy(joined, dir, dlen);
    joined[dlen] = '/';
    memcpy(joined + dlen + 1, loc, llen + 1);
    if (!realpath(dir, real_dir))
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: model folder '%s': %s", what, dir,
                         strerror(errno));
    if (!realpath(joined, real_file))
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: external data file '%s': %s", what, loc,
                         strerror(errno));
    size_t rlen = strlen(real_dir);
    bool inside = rlen == 1 ? real_file[0] == '/'
                            : strncmp(real_file, real_dir, rlen) == 0 && real_file[rlen] == '/';
    if (!inside)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data file '%s' resolves outside the model folder", what,
                         loc);
    /* O_NOFOLLOW: the resolved path had no symlink; refuse one planted since. */
    int fd = open(real_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: external data file '%s': %s", what, loc,
                         strerror(errno));
    *fd_out = fd;
    return ONNXRUN_OK;
}

static int read_range(int fd, uint64_t offset, size_t nbytes, const char *what, or_tensor *out,
                      char *err, size_t errlen) {
    unsigned char *buf = or_pb_aligned_alloc(nbytes);
    if (!buf) return or_pb_err(err, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory", what);
    size_t done = 0;
    while (done < nbytes) {
        ssize_t got = pread(fd, buf + done, nbytes - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            or_free(buf);
            return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: reading external data: %s", what,
                             got < 0 ? strerror(errno) : "unexpected end of file");
        }
        done += (size_t)got;
    }
    out->data = out->owned = buf;
    out->owned_len = nbytes;
    out->owned_is_mapping = false;
    return ONNXRUN_OK;
}

/* Maps from the page holding offset; data points inside the mapping. */
static bool map_range(int fd, uint64_t offset, size_t nbytes, or_tensor *out) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return false;
    uint64_t start = offset - offset % (uint64_t)page;
    size_t skip = (size_t)(offset - start);
    if (nbytes > SIZE_MAX - skip) return false;
    if (!or_mem_charge(skip + nbytes)) return false; /* the read fallback reports the cap */
    void *map = mmap(NULL, skip + nbytes, PROT_READ, MAP_PRIVATE, fd, (off_t)start);
    if (map == MAP_FAILED) {
        or_mem_uncharge(skip + nbytes);
        return false;
    }
    out->owned = map;
    out->owned_len = skip + nbytes;
    out->owned_is_mapping = true;
    out->data = (unsigned char *)map + skip;
    return true;
}

static bool host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static int load_range(int fd, const ext_ref *ref, const char *what, size_t nbytes, or_tensor *out,
                      char *err, size_t errlen) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data '%s' is not a regular file", what, ref->location);
    uint64_t size = (uint64_t)st.st_size;
    if (ref->offset > size)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data offset %llu is beyond the end of '%s' (%llu bytes)",
                         what, (unsigned long long)ref->offset, ref->location,
                         (unsigned long long)size);
    uint64_t length = ref->has_length ? ref->length : size - ref->offset;
    if (length > size - ref->offset)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data range %llu+%llu is beyond the end of '%s' (%llu "
                         "bytes)",
                         what, (unsigned long long)ref->offset, (unsigned long long)length,
                         ref->location, (unsigned long long)size);
    if (length != nbytes)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data has %llu bytes, expected %zu", what,
                         (unsigned long long)length, nbytes);
    out->nbytes = nbytes;
    if (nbytes >= OR_MMAP_MIN_BYTES && ref->offset % 64 == 0 && host_is_little_endian() &&
        map_range(fd, ref->offset, nbytes, out))
        return ONNXRUN_OK;
    int status = read_range(fd, ref->offset, nbytes, what, out, err, errlen);
    if (status == ONNXRUN_OK) or_pb_le_to_host(out->data, nbytes, or_dtype_size(out->dtype));
    return status;
}

int or_pb_load_external(const Onnx__TensorProto *tp, const char *what, const char *model_dir,
                        size_t nbytes, or_tensor *out, char *err, size_t errlen) {
    ext_ref ref;
    int status = parse_ref(tp, what, &ref, err, errlen);
    if (status != ONNXRUN_OK) return status;
    if (!model_dir)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                         "%s: external data '%s' is not allowed here (no model folder)", what,
                         ref.location);
    status = check_location(ref.location, what, err, errlen);
    if (status != ONNXRUN_OK) return status;
    int fd = -1;
    status = open_inside(model_dir, ref.location, what, &fd, err, errlen);
    if (status != ONNXRUN_OK) return status;
    status = load_range(fd, &ref, what, nbytes, out, err, errlen);
    close(fd);
    return status;
}
