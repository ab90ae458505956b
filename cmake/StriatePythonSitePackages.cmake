# striate_nvidia_wheel_roots(<out-var> <component>)
#
# The folders where NVIDIA's pip wheels (nvidia-cudnn-cu12, nvidia-cublas-cu12,
# ...) put <component>: <site-packages>/nvidia/<component>. PyTorch installed
# with pip brings cuDNN and cuBLAS only this way, so a GPU machine may have
# them nowhere else. The interpreter is asked once per configure; a missing
# Python simply gives the well-known Debian paths.
include_guard(GLOBAL)

function(_striate_python_site_dirs out)
  get_property(cached GLOBAL PROPERTY STRIATE_PYTHON_SITE_DIRS SET)
  if(cached)
    get_property(dirs GLOBAL PROPERTY STRIATE_PYTHON_SITE_DIRS)
    set(${out} "${dirs}" PARENT_SCOPE)
    return()
  endif()

  set(dirs "")
  set(interpreters "")
  foreach(candidate IN ITEMS "${STRIATE_PYTHON}" "${Python3_EXECUTABLE}" "$ENV{VIRTUAL_ENV}/bin/python")
    if(candidate AND EXISTS "${candidate}")
      list(APPEND interpreters "${candidate}")
    endif()
  endforeach()
  find_program(STRIATE_PYTHON3_FOR_SITE NAMES python3 python DOC "Python asked where pip put NVIDIA wheels")
  mark_as_advanced(STRIATE_PYTHON3_FOR_SITE)
  if(STRIATE_PYTHON3_FOR_SITE)
    list(APPEND interpreters "${STRIATE_PYTHON3_FOR_SITE}")
  endif()
  list(REMOVE_DUPLICATES interpreters)

  set(script [=[
import site, sys
paths = []
try:
    paths += site.getsitepackages()
except Exception:
    pass
try:
    paths.append(site.getusersitepackages())
except Exception:
    pass
paths += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
print(";".join(dict.fromkeys(paths)))
]=])
  foreach(python IN LISTS interpreters)
    execute_process(COMMAND "${python}" -c "${script}"
      OUTPUT_VARIABLE found OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE rc ERROR_QUIET TIMEOUT 30)
    if(rc EQUAL 0 AND found)
      list(APPEND dirs ${found})
    endif()
  endforeach()
  file(GLOB debian_dirs LIST_DIRECTORIES true
    /usr/lib/python3/dist-packages /usr/local/lib/python3*/dist-packages /usr/local/lib/python3*/site-packages)
  list(APPEND dirs ${debian_dirs})
  list(REMOVE_DUPLICATES dirs)
  set_property(GLOBAL PROPERTY STRIATE_PYTHON_SITE_DIRS "${dirs}")
  set(${out} "${dirs}" PARENT_SCOPE)
endfunction()

function(striate_nvidia_wheel_roots out component)
  _striate_python_site_dirs(site_dirs)
  set(roots "")
  foreach(dir IN LISTS site_dirs)
    if(IS_DIRECTORY "${dir}/nvidia/${component}")
      list(APPEND roots "${dir}/nvidia/${component}")
    endif()
  endforeach()
  set(${out} "${roots}" PARENT_SCOPE)
endfunction()
