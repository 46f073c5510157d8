-- Builds Redis 7.0's script environment in a fresh Lua state. Runs once per
-- state, with the standard libraries, Redis's extra libraries and the Rust
-- primitives (`rt`) in place. Globals become read-only: scripts see them
-- through an empty proxy whose metatable looks names up and refuses writes,
-- which is how this build (without Redis's readonly-table patch to Lua)
-- reproduces Redis's errors.
local rt = ...
local R = _G
local dbg = debug
local error, type, tostring, select = error, type, tostring, select
local next, pairs, rawget, rawset = next, pairs, rawget, rawset
local setmetatable, getmetatable, setfenv = setmetatable, getmetatable, setfenv

for _, k in ipairs({ 'debug', 'print', 'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy',
                     'module', 'require', 'package', 'io', 'os' }) do
    R[k] = nil
end

-- proxy -> the table it stands for
local protected = setmetatable({}, { __mode = 'k' })

local function readonly_error()
    error('Attempt to modify a readonly table', 2)
end

local function protect(t)
    local p = {}
    protected[p] = t
    return setmetatable(p, { __index = t, __newindex = readonly_error, __metatable = false })
end

-- The redis table while a library loads: only these names exist.
local function strict(t)
    local p = {}
    protected[p] = t
    return setmetatable(p, {
        __index = function(_, k)
            local v = t[k]
            if v == nil then
                error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
            end
            return v
        end,
        __newindex = readonly_error,
        __metatable = false,
    })
end

local function raise(msg)
    error({ err = msg })
end

-- Redis's luaPushErrorBuff: "-CODE msg" or "msg" into "CODE msg".
local function error_table(s)
    local code, msg = 'ERR', s
    if s:sub(1, 1) == '-' then
        local sp = s:find(' ', 1, true)
        if sp then
            code, msg = s:sub(2, sp - 1), s:sub(sp + 1)
        else
            msg = s:sub(2)
        end
    end
    msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
    return { err = code .. ' ' .. msg }
end

local redis = {}

local function need_call()
    local f = rt.call
    if not f then
        raise('ERR redis.call/pcall can only be called inside a script invocation')
    end
    return f
end

redis.call = rt.cwrap(function(...)
    local v, failed = need_call()(...)
    if failed then
        error(v)
    end
    return v
end)

redis.pcall = rt.cwrap(function(...)
    local v = need_call()(...)
    return v
end)

function redis.error_reply(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return { err = 'ERR wrong number or type of arguments' }
    end
    if s:sub(1, 1) ~= '-' then
        s = '-' .. s
    end
    return error_table(s)
end

function redis.status_reply(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then
        return { err = 'ERR wrong number or type of arguments' }
    end
    return { ok = s }
end

redis.sha1hex = rt.cwrap(function(...)
    if select('#', ...) ~= 1 then
        raise('ERR wrong number of arguments')
    end
    return rt.sha1hex(...)
end)

local log = rt.cwrap(function(...)
    local e = rt.log(...)
    if e then
        raise(e)
    end
end)

redis.setresp = rt.cwrap(function(...)
    if not rt.call then
        raise('ERR redis.setresp can only be called inside a script invocation')
    end
    local e = rt.setresp(...)
    if e then
        raise(e)
    end
end)

redis.set_repl = rt.cwrap(function(...)
    if not rt.call then
        raise('ERR redis.set_repl can only be called inside a script invocation')
    end
    if select('#', ...) ~= 1 then
        raise('ERR redis.set_repl() requires two arguments.')
    end
    local flags = tonumber((...)) or 0
    if flags ~= 0 and flags ~= 1 and flags ~= 2 and flags ~= 3 then
        raise('ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
    end
end)

function redis.replicate_commands()
    return true
end

function redis.breakpoint()
    return false
end

function redis.debug()
end

redis.acl_check_cmd = rt.cwrap(function(...)
    if not rt.call then
        raise('ERR redis.acl_check_cmd can only be called inside a script invocation')
    end
    local ok, e = rt.acl_check(...)
    if e then
        raise(e)
    end
    return ok
end)

local function add_consts(t)
    t.log = log
    t.LOG_DEBUG, t.LOG_VERBOSE, t.LOG_NOTICE, t.LOG_WARNING = 0, 1, 2, 3
    t.REDIS_VERSION = rt.version
    t.REDIS_VERSION_NUM = rt.version_num
end
add_consts(redis)
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3

-- FUNCTION LOAD: redis.register_function collects into rt.registered.
local flag_names = { ['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true,
                     ['no-cluster'] = true, ['allow-cross-slot-keys'] = true }

local function valid_name(s)
    return type(s) == 'string' and #s > 0 and not s:find('[^%w_]')
end

local register_function = rt.cwrap(function(...)
    local reg = rt.registered
    if not reg then
        raise('ERR redis.register_function can only be called on FUNCTION LOAD command')
    end
    local argc = select('#', ...)
    if argc < 1 or argc > 2 then
        raise('ERR wrong number of arguments to redis.register_function')
    end
    local name, callback, flags, desc
    if argc == 1 then
        local t = ...
        if type(t) ~= 'table' then
            raise('ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
        end
        for k, v in next, t do
            if type(k) ~= 'string' then
                raise('ERR named argument key given to redis.register_function is not a string')
            end
            if type(v) == 'number' and k ~= 'callback' and k ~= 'flags' then
                v = tostring(v)
            end
            if k == 'function_name' then
                if type(v) ~= 'string' then
                    raise('ERR function_name argument given to redis.register_function must be a string')
                end
                name = v
            elseif k == 'description' then
                if type(v) ~= 'string' then
                    raise('ERR description argument given to redis.register_function must be a string')
                end
                desc = v
            elseif k == 'callback' then
                if type(v) ~= 'function' then
                    raise('ERR callback argument given to redis.register_function must be a function')
                end
                callback = v
            elseif k == 'flags' then
                if type(v) ~= 'table' then
                    raise('ERR flags argument to redis.register_function must be a table representing function flags')
                end
                flags = {}
                for i = 1, #v do
                    local f = v[i]
                    if type(f) == 'number' then
                        f = tostring(f)
                    end
                    if type(f) ~= 'string' or not flag_names[f] then
                        raise('ERR unknown flag given')
                    end
                    flags[#flags + 1] = f
                end
            else
                raise('ERR unknown argument given to redis.register_function')
            end
        end
        if not name then
            raise('ERR redis.register_function must get a function name argument')
        end
        if not callback then
            raise('ERR redis.register_function must get a callback argument')
        end
    else
        name, callback = ...
        if type(name) == 'number' then
            name = tostring(name)
        end
        if type(name) ~= 'string' then
            raise('ERR first argument to redis.register_function must be a string')
        end
        if type(callback) ~= 'function' then
            raise('ERR second argument to redis.register_function must be a function')
        end
    end
    if not valid_name(name) then
        raise('ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
    end
    if reg[name] then
        raise('ERR Function already exists in the library')
    end
    reg[name] = true
    reg[#reg + 1] = { name = name, callback = callback, flags = flags or {}, description = desc }
end)

local load_redis = { register_function = register_function }
add_consts(load_redis)
local load_api = { redis = strict(load_redis) }

-- Redis's error handler: the error as a table with the script's position.
local function handler(err)
    local level, info = 2, nil
    while true do
        info = dbg.getinfo(level, 'nSl')
        if not info then
            break
        end
        if info.what ~= 'C' and info.source ~= '=internal' then
            break
        end
        level = level + 1
    end
    if type(err) ~= 'table' then
        err = { err = 'ERR ' .. tostring(err) }
    end
    if info then
        err.source = info.source
        err.line = info.currentline
    end
    return err
end

R.__redis__err__handler = handler

R.math.random = rt.cwrap(function(...)
    local v, e = rt.random(...)
    if e then
        error(e, 3)
    end
    return v
end)
R.math.randomseed = rt.randomseed
R.redis = redis

-- Library tables become read-only proxies.
for _, k in ipairs({ 'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack', 'redis' }) do
    if type(R[k]) == 'table' then
        R[k] = protect(R[k])
    end
end
local smt = getmetatable('')
if smt then
    smt.__index = R.string
    smt.__metatable = protect(smt)
end

-- Iteration and raw access see through the proxies.
local function pnext(t, k)
    local real = protected[t]
    if real then
        return next(real, k)
    end
    return next(t, k)
end
-- Redis's pcall: an error table with an `err` field becomes its message.
local function pcall_result(ok, ...)
    if not ok then
        local e = ...
        if type(e) == 'table' then
            local m = e.err
            if type(m) == 'string' or type(m) == 'number' then
                return false, m
            end
        end
    end
    return ok, ...
end
local pcall = pcall
R.pcall = function(...)
    return pcall_result(pcall(...))
end
R.next = pnext
R.pairs = function(t)
    local f, s, c = pairs(t)
    if protected[t] then
        return pnext, t, nil
    end
    return f, s, c
end
R.rawget = function(t, k)
    local real = protected[t]
    if real then
        return rawget(real, k)
    end
    return rawget(t, k)
end
R.rawset = rt.cwrap(function(t, k, v)
    if protected[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return rawset(t, k, v)
end)
R.setmetatable = rt.cwrap(function(t, mt)
    if protected[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return setmetatable(t, mt)
end)

-- The globals scripts see.
local api = R
local G = {}
protected[G] = R
setmetatable(G, {
    __index = function(_, k)
        local v = api[k]
        if v == nil then
            error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
        end
        return v
    end,
    __newindex = readonly_error,
    __metatable = false,
})
R._G = G

-- Runs a compiled script or function: ok, first result (or the error table).
local xpcall = xpcall
local function run(f, a, b)
    return xpcall(function()
        return f(a, b)
    end, handler)
end

-- Runs a library's code with only the load API visible.
local function load_library(f)
    api = load_api
    local ok, e = xpcall(f, handler)
    api = R
    return ok, e
end

setfenv(0, G)
return run, load_library, R
