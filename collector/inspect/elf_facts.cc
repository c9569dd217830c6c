#include "inspect/elf_facts.h"

#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace fpshim {

namespace {

// Upper bounds on what we read from a file that may be hostile or damaged.
constexpr size_t kMaxTable = 256 * 1024;  // program or section header table
constexpr size_t kMaxNote = 64 * 1024;    // one PT_NOTE segment, or the section name table

bool read_at(int fd, uint64_t offset, size_t size, std::vector<char>& out) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, out.data() + done, size - done, off_t(offset + done));
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

template <typename T>
T at(const std::vector<char>& buf, size_t offset) {
  T value;
  memcpy(&value, buf.data() + offset, sizeof value);
  return value;
}

// True if the notes in `buf` include one whose owner is "Go".
bool has_go_note(const std::vector<char>& buf, size_t align) {
  auto aligned = [align](size_t n) { return (n + align - 1) & ~(align - 1); };
  size_t pos = 0;
  while (buf.size() - pos >= 12) {
    uint32_t namesz = at<uint32_t>(buf, pos), descsz = at<uint32_t>(buf, pos + 4);
    size_t name = pos + 12;
    if (namesz > buf.size() - name) return false;
    std::string_view owner(buf.data() + name, strnlen(buf.data() + name, namesz));
    if (owner == "Go") return true;
    size_t desc = name + aligned(namesz);
    if (desc > buf.size() || descsz > buf.size() - desc) return false;
    pos = desc + aligned(descsz);
  }
  return false;
}

template <typename Ehdr, typename Phdr, typename Shdr>
bool has_go_section(int fd, const Ehdr& eh) {
  if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(Shdr) || eh.e_shstrndx >= eh.e_shnum) return false;
  size_t table = size_t(eh.e_shnum) * sizeof(Shdr);
  std::vector<char> shdrs, names;
  if (table > kMaxTable || !read_at(fd, eh.e_shoff, table, shdrs)) return false;
  Shdr strtab = at<Shdr>(shdrs, eh.e_shstrndx * sizeof(Shdr));
  if (strtab.sh_size > kMaxNote || !read_at(fd, strtab.sh_offset, strtab.sh_size, names)) return false;
  constexpr std::string_view kGoNote = ".note.go.buildid";
  for (size_t i = 0; i < eh.e_shnum; i++) {
    uint32_t name = at<Shdr>(shdrs, i * sizeof(Shdr)).sh_name;
    if (name < names.size() && names.size() - name > kGoNote.size() &&
        std::string_view(names.data() + name, kGoNote.size()) == kGoNote && names[name + kGoNote.size()] == '\0')
      return true;
  }
  return false;
}

template <typename Ehdr, typename Phdr, typename Shdr>
bool read_class(int fd, const std::vector<char>& head, ElfFacts& out) {
  if (head.size() < sizeof(Ehdr)) return false;
  Ehdr eh = at<Ehdr>(head, 0);
  out.machine = eh.e_machine;
  out.executable = eh.e_type == ET_EXEC || eh.e_type == ET_DYN;
  if (eh.e_phentsize != sizeof(Phdr)) return eh.e_phnum == 0;
  size_t table = size_t(eh.e_phnum) * sizeof(Phdr);
  std::vector<char> phdrs, segment;
  if (table > kMaxTable || !read_at(fd, eh.e_phoff, table, phdrs)) return false;
  for (size_t i = 0; i < eh.e_phnum; i++) {
    Phdr ph = at<Phdr>(phdrs, i * sizeof(Phdr));
    if (ph.p_type == PT_INTERP && ph.p_filesz < 4096 && read_at(fd, ph.p_offset, ph.p_filesz, segment)) {
      out.has_interp = true;
      out.interp.assign(segment.data(), strnlen(segment.data(), segment.size()));
    } else if (ph.p_type == PT_NOTE && !out.go && ph.p_filesz <= kMaxNote &&
               read_at(fd, ph.p_offset, ph.p_filesz, segment)) {
      out.go = has_go_note(segment, ph.p_align == 8 ? 8 : 4);
    }
  }
  if (!out.go) out.go = has_go_section<Ehdr, Phdr, Shdr>(fd, eh);
  return true;
}

}  // namespace

bool read_elf_facts(int fd, ElfFacts& out) {
  out = ElfFacts{};
  std::vector<char> head;
  if (!read_at(fd, 0, sizeof(Elf64_Ehdr), head) && !read_at(fd, 0, sizeof(Elf32_Ehdr), head)) return false;
  if (memcmp(head.data(), ELFMAG, SELFMAG) != 0) return false;
  out.elf_class = head[EI_CLASS];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  out.native_byte_order = head[EI_DATA] == ELFDATA2LSB;
#else
  out.native_byte_order = head[EI_DATA] == ELFDATA2MSB;
#endif
  if (!out.native_byte_order) return true;  // a foreign machine's program: the class says enough
  if (out.elf_class == ELFCLASS64) return read_class<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(fd, head, out);
  if (out.elf_class == ELFCLASS32) return read_class<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(fd, head, out);
  return true;
}

}  // namespace fpshim
