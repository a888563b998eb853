-- wrk script: POST pre-signed myKaarma deliveries, each request a distinct event.
-- Usage: WRK_THREADS=T wrk -t T ... -s benches/post_signed.lua URL -- FILE
-- FILE holds `signature<TAB>body` lines (`switchboard gen --signed-mykaarma SECRET --out FILE`).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  -- Each thread takes every T-th line, so no two threads send the same event.
  local stride = tonumber(os.getenv("WRK_THREADS") or "1")
  sigs, bodies = {}, {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % stride == id then
      local tab = line:find("\t", 1, true)
      sigs[#sigs + 1] = line:sub(1, tab - 1)
      bodies[#bodies + 1] = line:sub(tab + 1)
    end
    n = n + 1
  end
  next_index = 1
end

function request()
  local i = next_index
  -- Past the end, bodies repeat: they are then duplicates, which the receiver also answers 200.
  next_index = next_index % #bodies + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "text/plain",
    ["mykaarma-signature-token"] = sigs[i],
  }, bodies[i])
end
