-- wrk script (wrk -s) for bench/scripts.ts: a browser-like request, 9 headers and about 500 bytes
-- with the Host wrk adds from -H, as a browser loading a storefront page sends. `x-shop-id` cycles over
-- six shops (the sharding script sends odd ones to shard-a, even ones to shard-b) and
-- `x-request-id` is new on every request. Every variant, `none` included, gets exactly these
-- requests, so wrk and signalbox's header parsing do the same work whatever the script.
local shops = 6
local counter = 0

wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-GB,en;q=0.9,de;q=0.7"
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"
wrk.headers["Cookie"] = "session=7f1c2a9e4b8d3c6a; theme=dark; consent=analytics%3D0%26ads%3D0; cart=3"
wrk.headers["Referer"] = "https://bench.local/products"

request = function()
  counter = counter + 1
  wrk.headers["X-Shop-Id"] = tostring(counter % shops + 1)
  wrk.headers["X-Request-Id"] = string.format("%08x-bench-%012d", counter, counter)
  return wrk.format()
end
