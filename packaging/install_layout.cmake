# Run at install time (packaging/CMakeLists.txt): the shims, the systemd unit and the lintian overrides,
# in the directories the install prefix calls for. Set before this runs: fpshim_shim_build_dir (build/bin),
# fpshim_multiarch (x86_64-linux-gnu), fpshim_strip (the strip program), fpshim_unit_source and
# fpshim_lintian_overrides.
#
# glibc expands `$LIB` in LD_PRELOAD to its own library directory, which on Debian 12 is
# lib/x86_64-linux-gnu for a 64-bit process, lib32 for a 32-bit one run by libc6-i386's loader (the
# one gcc-multilib installs; observed with strace) and, by the same rule, lib/i386-linux-gnu for
# multiarch libc6:i386. The i386 shim is linked from both 32-bit directories.

if(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(shim_dir "/usr/lib/${fpshim_multiarch}/fpshim")
  set(unit_dir "/lib/systemd/system")
  set(i386_dirs "/usr/lib/i386-linux-gnu/fpshim" "/usr/lib32/fpshim")
else()
  set(shim_dir "${CMAKE_INSTALL_PREFIX}/lib/fpshim")
  set(unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  set(i386_dirs "")
endif()

# libfpshim.so and every libfpshim-<variant>.so beside it (the contract in packaging/CMakeLists.txt).
file(GLOB variants "${fpshim_shim_build_dir}/libfpshim-*.so")
file(INSTALL "${fpshim_shim_build_dir}/libfpshim.so" ${variants} DESTINATION "${shim_dir}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# Stripped of their debugging information as install(TARGETS) would (`cmake --install --strip`, and
# the package: CPACK_STRIP_FILES); the exported symbols stay.
if(CMAKE_INSTALL_DO_STRIP AND fpshim_strip)
  foreach(shim "${fpshim_shim_build_dir}/libfpshim.so" ${variants})
    get_filename_component(name "${shim}" NAME)
    execute_process(COMMAND "${fpshim_strip}" --strip-unneeded "$ENV{DESTDIR}${shim_dir}/${name}"
                    COMMAND_ERROR_IS_FATAL ANY)
  endforeach()
endif()

if(EXISTS "${fpshim_shim_build_dir}/libfpshim-i386.so")
  foreach(dir ${i386_dirs})
    file(RELATIVE_PATH target "${dir}" "${shim_dir}/libfpshim-i386.so")
    file(MAKE_DIRECTORY "$ENV{DESTDIR}${dir}")
    file(CREATE_LINK "${target}" "$ENV{DESTDIR}${dir}/libfpshim.so" SYMBOLIC)
    message(STATUS "Installing: $ENV{DESTDIR}${dir}/libfpshim.so -> ${target}")
  endforeach()
endif()

# The unit of `fpshim serve`, starting the fpshim of this prefix (written in place: the build tree
# is shared by installs to different prefixes that may run at once).
file(READ "${fpshim_unit_source}" unit)
string(REPLACE "/usr/local/bin/fpshim" "${CMAKE_INSTALL_PREFIX}/bin/fpshim" unit "${unit}")
set(unit_file "$ENV{DESTDIR}${unit_dir}/fpshim-serve.service")
message(STATUS "Installing: ${unit_file}")
file(WRITE "${unit_file}" "${unit}")
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${unit_dir}/fpshim-serve.service")

# lintian's overrides, each with its reason: for the package (prefix /usr) only.
if(CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  file(INSTALL "${fpshim_lintian_overrides}" DESTINATION "/usr/share/lintian/overrides" RENAME fpshim
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
