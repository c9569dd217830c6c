// glibc-specific: finds libc's own dlsym and dlvsym, and what one loaded object defines, by
// reading its dynamic symbol table (see dl_symbols.h). No allocation, no lock of ours, no libc
// string function; works before our constructor has run (the hooks may be called from another
// library's constructor, or from a sanitizer runtime setting up its interceptors).
#include "dl_symbols.h"

#include <dlfcn.h>

#if FPSHIM_GLIBC
#include <atomic>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>

namespace fpshim::dl {

namespace {

// strcmp() == 0 without libc's strcmp: a sanitizer runtime asks our dlsym for its real functions
// while its own strcmp interceptor has none yet.
bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) a++, b++;
  return *a == *b;
}

// The pieces of an object's dynamic section a lookup needs.
struct Tables {
  ElfW(Addr) base = 0;
  const ElfW(Sym) * symbols = nullptr;
  const char* strings = nullptr;
  const uint32_t* gnu_hash = nullptr;
  const ElfW(Half) * versym = nullptr;
  const ElfW(Verdef) * verdef = nullptr;
};

Tables tables_of(const link_map* map) {
  Tables t;
  t.base = map->l_addr;
  // ld.so relocates these entries in place on most targets; where the dynamic section is
  // read-only (RISC-V, MIPS) they are still offsets from the load address.
  const auto at = [&](ElfW(Addr) p) { return p < map->l_addr ? p + map->l_addr : p; };
  for (const ElfW(Dyn)* d = map->l_ld; d != nullptr && d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
      case DT_SYMTAB: t.symbols = reinterpret_cast<const ElfW(Sym)*>(at(d->d_un.d_ptr)); break;
      case DT_STRTAB: t.strings = reinterpret_cast<const char*>(at(d->d_un.d_ptr)); break;
      case DT_GNU_HASH: t.gnu_hash = reinterpret_cast<const uint32_t*>(at(d->d_un.d_ptr)); break;
      case DT_VERSYM: t.versym = reinterpret_cast<const ElfW(Half)*>(at(d->d_un.d_ptr)); break;
      case DT_VERDEF: t.verdef = reinterpret_cast<const ElfW(Verdef)*>(at(d->d_un.d_ptr)); break;
      default: break;
    }
  }
  return t;
}

// Does symbol `index` carry the version asked for (null: the default one)?
bool version_matches(const Tables& t, uint32_t index, const char* version) {
  if (t.versym == nullptr) return true;
  const ElfW(Half) entry = t.versym[index];
  const ElfW(Half) ndx = entry & 0x7fff;
  if (ndx == 0) return false;  // local
  if (ndx == 1) return true;   // unversioned: stands for every version
  if (version == nullptr) return (entry & 0x8000) == 0;
  for (const ElfW(Verdef)* d = t.verdef; d != nullptr;
       d = d->vd_next != 0 ? reinterpret_cast<const ElfW(Verdef)*>(reinterpret_cast<const char*>(d) + d->vd_next)
                           : nullptr) {
    if (d->vd_ndx != ndx) continue;
    const auto* aux = reinterpret_cast<const ElfW(Verdaux)*>(reinterpret_cast<const char*>(d) + d->vd_aux);
    return same(t.strings + aux->vda_name, version);
  }
  return false;
}

void* gnu_lookup(const Tables& t, const char* name, const char* version) {
  if (t.symbols == nullptr || t.strings == nullptr || t.gnu_hash == nullptr) return nullptr;
  const uint32_t buckets = t.gnu_hash[0], first = t.gnu_hash[1], bloom_words = t.gnu_hash[2];
  if (buckets == 0) return nullptr;
  const auto* bucket = reinterpret_cast<const uint32_t*>(reinterpret_cast<const ElfW(Addr)*>(t.gnu_hash + 4) +
                                                         bloom_words);
  const uint32_t* chain = bucket + buckets;
  uint32_t hash = 5381;
  for (const char* c = name; *c != '\0'; c++) hash = hash * 33 + static_cast<unsigned char>(*c);
  uint32_t i = bucket[hash % buckets];
  if (i < first) return nullptr;
  for (;; i++) {
    const uint32_t h = chain[i - first];
    const ElfW(Sym)& s = t.symbols[i];
    if ((h | 1) == (hash | 1) && s.st_shndx != SHN_UNDEF && same(t.strings + s.st_name, name) &&
        version_matches(t, i, version))
      return reinterpret_cast<void*>(t.base + s.st_value);
    if (h & 1) return nullptr;
  }
}

// The C library is the object that defines fileno, which the shim does not hook.
const void* const kLibcFunction = reinterpret_cast<const void*>(&fileno);

std::atomic<void*> g_libc_object{nullptr}, g_shim_object{nullptr};
std::atomic<Dlsym> g_dlsym{nullptr};
std::atomic<Dlvsym> g_dlvsym{nullptr};

void* cached_object(std::atomic<void*>& cache, const void* address) {
  void* map = cache.load(std::memory_order_relaxed);
  if (map == nullptr) {
    map = object_at(address);
    cache.store(map, std::memory_order_relaxed);
  }
  return map;
}

}  // namespace

// glibc 2.35's _dl_find_object is a lock-free binary search over the loaded objects; dladdr1
// also looks for the symbol nearest the address, a linear scan of the object's symbol table that
// cost a process start about 86,000 instructions for libc's (the first lookup of a real function).
void* object_at(const void* address) {
#ifdef DLFO_STRUCT_HAS_EH_DBASE
  dl_find_object found;
  if (_dl_find_object(const_cast<void*>(address), &found) == 0) return found.dlfo_link_map;
#endif
  Dl_info info;
  link_map* map = nullptr;
  if (dladdr1(address, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0) return nullptr;
  return map;
}

void* defined_in(void* object, const char* name, const char* version) {
  if (object == nullptr || name == nullptr) return nullptr;
  return gnu_lookup(tables_of(static_cast<const link_map*>(object)), name, version);
}

void* libc_object() { return cached_object(g_libc_object, kLibcFunction); }
void* shim_object() { return cached_object(g_shim_object, reinterpret_cast<const void*>(&shim_object)); }

// dlsym and dlvsym live in libc since glibc 2.34, and in libdl (beside dlerror) before.
Dlsym libc_dlsym() {
  Dlsym f = g_dlsym.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = reinterpret_cast<Dlsym>(defined_in(object_at(reinterpret_cast<const void*>(&dlerror)), "dlsym", nullptr));
    g_dlsym.store(f, std::memory_order_relaxed);
  }
  return f;
}

Dlvsym libc_dlvsym() {
  Dlvsym f = g_dlvsym.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = reinterpret_cast<Dlvsym>(defined_in(object_at(reinterpret_cast<const void*>(&dlerror)), "dlvsym", nullptr));
    g_dlvsym.store(f, std::memory_order_relaxed);
  }
  return f;
}

}  // namespace fpshim::dl

#else

namespace fpshim::dl {

Dlsym libc_dlsym() { return &dlsym; }

}  // namespace fpshim::dl

#endif
