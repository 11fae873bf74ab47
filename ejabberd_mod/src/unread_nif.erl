%%%----------------------------------------------------------------------
%%% File    : unread_nif.erl
%%% Purpose : Erlang face of the C++ unread index (nif/c_src).
%%%
%%% An index is a NIF resource: it is freed when the last reference to it
%%% goes away, so stopping mod_unread frees its memory without a VM restart.
%%% Malformed arguments raise badarg; nothing here can crash the VM.
%%%----------------------------------------------------------------------
-module(unread_nif).

-export([new/0, insert/3, insert_many/3, delete_object/2, delete_user/2,
	 clear/1, count/2, senders/2, page/5, top/2, stats/1, health/3,
	 diff/2, replace_user/5, bodies/2, insert_rows/4, scan_rows/2,
	 live_indexes/0,
	 sender_impact/4, sender_users/3, older_than/3, users_older_than/2]).

-on_load(load/0).

-type index() :: reference().
%% A message's identity in the index: its id (the storage timestamp in
%% microseconds) and a key telling apart records of one user stored in the
%% same microsecond. Keys are valid only in the VM that made them.
-type message_key() :: {Id :: integer(), Key :: non_neg_integer()}.
-type user_diff() :: {User :: binary(), Before :: non_neg_integer(),
		      After :: non_neg_integer(), Added :: non_neg_integer(),
		      Removed :: non_neg_integer()}.
-export_type([index/0, user_diff/0, message_key/0]).

load() ->
    erlang:load_nif(filename:join(priv_dir(), "unread_nif"), 0).

%% Installed as an OTP application (lib/erlang/lib/mod_unread-<vsn>), priv/
%% is found by name; a bare ebin/ on the code path has priv/ beside it.
priv_dir() ->
    case code:priv_dir(mod_unread) of
	{error, bad_name} ->
	    Ebin = filename:dirname(code:which(?MODULE)),
	    filename:join(filename:dirname(Ebin), "priv");
	Dir ->
	    Dir
    end.

-define(NOT_LOADED, erlang:nif_error({not_loaded, ?MODULE})).

%% A new, empty index.
-spec new() -> index().
new() -> ?NOT_LOADED.

%% Adds one #offline_msg{} record; false if it was indexed already.
-spec insert(index(), tuple(), non_neg_integer()) -> boolean().
insert(_Index, _Record, _PreviewChars) -> ?NOT_LOADED.

%% Adds records on a dirty scheduler; returns how many were new. A malformed
%% record anywhere is a badarg, with nothing inserted.
-spec insert_many(index(), [tuple()], non_neg_integer()) -> non_neg_integer().
insert_many(_Index, _Records, _PreviewChars) -> ?NOT_LOADED.

-spec delete_object(index(), tuple()) -> boolean().
delete_object(_Index, _Record) -> ?NOT_LOADED.

-spec delete_user(index(), binary()) -> non_neg_integer().
delete_user(_Index, _LUser) -> ?NOT_LOADED.

-spec clear(index()) -> ok.
clear(_Index) -> ?NOT_LOADED.

-spec count(index(), binary()) -> non_neg_integer().
count(_Index, _LUser) -> ?NOT_LOADED.

-spec senders(index(), binary()) -> [{binary(), pos_integer()}].
senders(_Index, _LUser) -> ?NOT_LOADED.

%% Newest first. From = <<>> for any sender.
-spec page(index(), binary(), non_neg_integer(), 0..10000, binary()) ->
		  [{Id :: integer(), Key :: non_neg_integer(), From :: binary(),
		    Type :: atom(), Subject :: binary(), Preview :: binary()}].
page(_Index, _LUser, _Offset, _Limit, _From) -> ?NOT_LOADED.

-spec top(index(), 0..10000) -> [{binary(), pos_integer()}].
top(_Index, _Limit) -> ?NOT_LOADED.

-spec stats(index()) -> {Total :: non_neg_integer(), Users :: non_neg_integer(),
			 Bytes :: non_neg_integer()}.
stats(_Index) -> ?NOT_LOADED.

%% The backlog in one pass over every user (on a dirty scheduler): users
%% with unread messages, unread messages, the oldest message ({Id, User},
%% or none when the index is empty), one cumulative count per bound (users
%% with at most that many messages; Bounds strictly ascending, at most 64),
%% and the users with at least Threshold messages, largest first (none for
%% Threshold 0).
-spec health(index(), [non_neg_integer()], non_neg_integer()) ->
		    {Users :: non_neg_integer(), Messages :: non_neg_integer(),
		     Oldest :: none | {Id :: integer(), User :: binary()},
		     Buckets :: [non_neg_integer()],
		     AtLeast :: [{binary(), pos_integer()}]}.
health(_Index, _Bounds, _Threshold) -> ?NOT_LOADED.

%% Users whose messages differ between two indexes.
-spec diff(index(), index()) -> [user_diff()].
diff(_Before, _After) -> ?NOT_LOADED.

%% Sets a user's messages to exactly the given store records.
-spec replace_user(index(), binary(), binary(), [tuple()], non_neg_integer()) ->
			  user_diff().
replace_user(_Index, _Host, _LUser, _Records, _PreviewChars) -> ?NOT_LOADED.

%% The bodies of the records whose {Id, Key} is wanted, chosen as the
%% previews are: the first <body/> without xml:lang (or with an empty one),
%% else the first. Runs on a dirty scheduler.
-spec bodies([tuple()], [message_key()]) ->
		    [{Id :: integer(), Key :: non_neg_integer(), Body :: binary()}].
bodies(_Records, _Wanted) -> ?NOT_LOADED.

%% What removing every message of a sender would touch: Name is a bare
%% JID ("bob@example.com", "example.com" for a server) with scope jid, or
%% a domain with scope domain (every sender of it). Answered from the
%% index's sender view, on a dirty scheduler.
-spec sender_impact(index(), binary(), jid | domain, 0..10000) ->
			   {Messages :: non_neg_integer(), Users :: non_neg_integer(),
			    Senders :: non_neg_integer(), Top :: [{binary(), pos_integer()}]}.
sender_impact(_Index, _Name, _Scope, _Limit) -> ?NOT_LOADED.

%% Every user holding messages of the sender (or domain), by name.
-spec sender_users(index(), binary(), jid | domain) -> [{binary(), pos_integer()}].
sender_users(_Index, _Name, _Scope) -> ?NOT_LOADED.

%% Messages with an id (microseconds) below Cutoff: how many, of how many
%% users, and the Limit senders with most of them.
-spec older_than(index(), integer(), 0..10000) ->
			{Messages :: non_neg_integer(), Users :: non_neg_integer(),
			 TopSenders :: [{binary(), pos_integer()}]}.
older_than(_Index, _Cutoff, _Limit) -> ?NOT_LOADED.

%% Users with messages older than Cutoff, with how many, by name.
-spec users_older_than(index(), integer()) -> [{binary(), pos_integer()}].
users_older_than(_Index, _Cutoff) -> ?NOT_LOADED.

%% A page of mod_offline SQL spool rows {Seq, LUser, XML, CreatedAt} (as
%% ejabberd_sql returns them) scanned and indexed on a dirty scheduler, each
%% keyed by its seq. Returns how many were indexed and the rows the scanner
%% declined (malformed, or outside what it reads exactly), in order, for the
%% caller to parse.
-spec insert_rows(index(), binary(), [tuple()], non_neg_integer()) ->
			 {non_neg_integer(), [tuple()]}.
insert_rows(_Index, _Host, _Rows, _PreviewChars) -> ?NOT_LOADED.

%% The same rows as #offline_msg{} records the other calls accept (expire =
%% {seq, Seq}, packet a #message{} with the chosen subject and body), or
%% declined, one per row. On a dirty scheduler.
-spec scan_rows(binary(), [tuple()]) -> [tuple() | declined].
scan_rows(_Host, _Rows) -> ?NOT_LOADED.

%% How many indexes are alive in this VM (for tests of resource freeing).
-spec live_indexes() -> non_neg_integer().
live_indexes() -> ?NOT_LOADED.
