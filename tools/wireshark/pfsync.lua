-- OpenBSD pfsync (protocol version 6, IP protocol 240) for Wireshark and
-- tshark, which have no dissector of their own for it. Written for pfd
-- from the packet layout in pfd's pfsync crate (pfsync/src/wire); it
-- reads OpenBSD's packets as well as pfd's, and pfd's authentication
-- trailer (`authkey`) when one follows the pfsync payload.
--
--   tshark -X lua_script:tools/wireshark/pfsync.lua -i pfsync0
--   tshark -X lua_script:tools/wireshark/pfsync.lua -r sync.pcap -V -Y pfsync
--   (or copy it into ~/.local/lib/wireshark/plugins/)
--
-- Sections are walked by their subheader's record length, as OpenBSD's
-- receiver does, so records a newer peer lengthened still line up.

local pfsync = Proto("pfsync", "OpenBSD pfsync")

local actions = {
  [0] = "CLR", [1] = "INS_OLD", [2] = "INS_ACK", [3] = "UPD_OLD",
  [4] = "UPD_C", [5] = "UPD_REQ", [6] = "DEL", [7] = "DEL_C",
  [8] = "INS_F", [9] = "DEL_F", [10] = "BUS", [11] = "TDB_OLD",
  [12] = "EOF", [13] = "INS", [14] = "UPD", [15] = "TDB",
}
local afs = { [2] = "inet", [24] = "inet6" }
local dirs = { [0] = "inout", [1] = "in", [2] = "out" }
local bus_status = { [1] = "start", [2] = "end" }

local f = pfsync.fields
f.version = ProtoField.uint8("pfsync.version", "Version")
f.len = ProtoField.uint16("pfsync.len", "Length")
f.cksum = ProtoField.bytes("pfsync.cksum", "Ruleset checksum")
f.action = ProtoField.uint8("pfsync.action", "Action", base.DEC, actions)
f.action_name = ProtoField.string("pfsync.action_name", "Action name")
f.rlen = ProtoField.uint8("pfsync.rlen", "Record length (32-bit words)")
f.count = ProtoField.uint16("pfsync.count", "Records")
f.id = ProtoField.uint64("pfsync.id", "State id", base.HEX)
f.creatorid = ProtoField.uint32("pfsync.creatorid", "Creator id", base.HEX)
f.ifname = ProtoField.string("pfsync.ifname", "Interface")
f.key = ProtoField.none("pfsync.key", "State key")
f.addr = ProtoField.ipv4("pfsync.addr", "Address")
f.addr6 = ProtoField.ipv6("pfsync.addr6", "Address")
f.port = ProtoField.uint16("pfsync.port", "Port")
f.rdomain = ProtoField.uint16("pfsync.rdomain", "Routing domain")
f.af = ProtoField.uint8("pfsync.af", "Address family", base.DEC, afs)
f.proto = ProtoField.uint8("pfsync.proto", "Protocol")
f.direction = ProtoField.uint8("pfsync.direction", "Direction", base.DEC, dirs)
f.timeout = ProtoField.uint8("pfsync.timeout", "Timeout class")
f.state_flags = ProtoField.uint16("pfsync.state_flags", "State flags", base.HEX)
f.peer = ProtoField.none("pfsync.peer", "Peer")
f.seqlo = ProtoField.uint32("pfsync.seqlo", "seqlo")
f.seqhi = ProtoField.uint32("pfsync.seqhi", "seqhi")
f.pstate = ProtoField.uint8("pfsync.peer_state", "Peer state")
f.creation = ProtoField.uint32("pfsync.creation", "Age (s)")
f.expire = ProtoField.uint32("pfsync.expire", "Expires in (s)")
f.packets = ProtoField.uint64("pfsync.packets", "Packets")
f.bytes = ProtoField.uint64("pfsync.bytes", "Bytes")
f.rule = ProtoField.uint32("pfsync.rule", "Rule")
f.bus_status = ProtoField.uint8("pfsync.bus_status", "Bulk status", base.DEC, bus_status)
f.endtime = ProtoField.uint32("pfsync.endtime", "End time")
f.record = ProtoField.bytes("pfsync.record", "Record")
f.auth = ProtoField.none("pfsync.pfd_auth", "pfd authentication trailer")
f.auth_sender = ProtoField.uint32("pfsync.pfd_auth.sender", "Sender", base.HEX)
f.auth_seq = ProtoField.uint64("pfsync.pfd_auth.seq", "Sequence")
f.auth_hmac = ProtoField.bytes("pfsync.pfd_auth.hmac", "HMAC-SHA256")

local function key(tree, tvb, name)
  local af = tvb(38, 1):uint()
  local t = tree:add(f.key, tvb(0, 40)):set_text(name)
  for i = 0, 1 do
    if af == 24 then
      t:add(f.addr6, tvb(16 * i, 16))
    else
      t:add(f.addr, tvb(16 * i, 4))
    end
  end
  t:add(f.port, tvb(32, 2))
  t:add(f.port, tvb(34, 2))
  t:add(f.rdomain, tvb(36, 2))
  t:add(f.af, tvb(38, 1))
end

local function peer(tree, tvb, name)
  local t = tree:add(f.peer, tvb(0, 32)):set_text(name)
  t:add(f.seqlo, tvb(8, 4))
  t:add(f.seqhi, tvb(12, 4))
  t:add(f.pstate, tvb(24, 1))
end

local function ids(t, r)
  t:add(f.id, r(0, 8))
  t:add(f.creatorid, r(8, 4))
end

local function state(t, r)
  t:add(f.id, r(0, 8))
  t:add(f.ifname, r(8, 16))
  key(t, r(24, 40), "Wire key")
  key(t, r(64, 40), "Stack key")
  peer(t, r(104, 32), "Source peer")
  peer(t, r(136, 32), "Destination peer")
  t:add(f.rule, r(184, 4))
  t:add(f.creation, r(196, 4))
  t:add(f.expire, r(200, 4))
  t:add(f.packets, r(204, 8))
  t:add(f.packets, r(212, 8))
  t:add(f.bytes, r(220, 8))
  t:add(f.bytes, r(228, 8))
  t:add(f.creatorid, r(236, 4))
  t:add(f.af, r(250, 1))
  t:add(f.proto, r(251, 1))
  t:add(f.direction, r(252, 1))
  t:add(f.timeout, r(255, 1))
  t:add(f.state_flags, r(260, 2))
end

-- record decoders by action, with the least record length they need
local records = {
  [0] = { 20, function(t, r) t:add(f.ifname, r(0, 16)); t:add(f.creatorid, r(16, 4)) end },
  [2] = { 12, ids },
  [4] = { 84, function(t, r)
    t:add(f.id, r(0, 8))
    peer(t, r(8, 32), "Source peer")
    peer(t, r(40, 32), "Destination peer")
    t:add(f.creatorid, r(72, 4))
    t:add(f.timeout, r(80, 1))
  end },
  [5] = { 12, ids },
  [6] = { 264, state },
  [7] = { 12, ids },
  [10] = { 12, function(t, r)
    t:add(f.creatorid, r(0, 4))
    t:add(f.endtime, r(4, 4))
    t:add(f.bus_status, r(8, 1))
  end },
  [13] = { 264, state },
  [14] = { 264, state },
}

function pfsync.dissector(tvb, pinfo, tree)
  if tvb:len() < 20 then return 0 end
  pinfo.cols.protocol = "PFSYNC"
  local len = tvb(2, 2):uint()
  local t = tree:add(pfsync, tvb(0, math.min(len, tvb:len())))
  t:add(f.version, tvb(0, 1))
  t:add(f.len, tvb(2, 2))
  t:add(f.cksum, tvb(4, 16))
  local info = {}
  local off = 20
  local stop = math.min(len, tvb:len())
  while off + 4 <= stop do
    local action = tvb(off, 1):uint()
    local mlen = tvb(off + 1, 1):uint() * 4
    local count = tvb(off + 2, 2):uint()
    local total = mlen * count
    local name = actions[action] or ("action " .. action)
    local s = t:add(tvb(off, math.min(4 + total, stop - off)), name .. " x" .. count)
    s:add(f.action, tvb(off, 1))
    s:add(f.action_name, name)
    s:add(f.rlen, tvb(off + 1, 1))
    s:add(f.count, tvb(off + 2, 2))
    info[#info + 1] = name .. " x" .. count
    off = off + 4
    if off + total > stop or (mlen == 0 and count > 0) then
      s:add_expert_info(PI_MALFORMED, PI_ERROR, "section overruns the packet")
      break
    end
    local dec = records[action]
    for i = 0, count - 1 do
      local r = tvb(off + i * mlen, mlen)
      local rt = s:add(f.record, r):set_text(name .. " record " .. i)
      if dec and mlen >= dec[1] then dec[2](rt, r) end
    end
    off = off + total
  end
  -- pfd's authkey trailer: sender, sequence, HMAC-SHA256 (44 bytes)
  if tvb:len() - len == 44 then
    local a = tree:add(f.auth, tvb(len, 44))
    a:add(f.auth_sender, tvb(len, 4))
    a:add(f.auth_seq, tvb(len + 4, 8))
    a:add(f.auth_hmac, tvb(len + 12, 32))
    info[#info + 1] = "(authenticated)"
  end
  pinfo.cols.info = "pfsync " .. table.concat(info, ", ")
  return tvb:len()
end

DissectorTable.get("ip.proto"):add(240, pfsync)
