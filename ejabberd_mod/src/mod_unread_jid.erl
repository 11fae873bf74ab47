%%%----------------------------------------------------------------------
%%% File    : mod_unread_jid.erl
%%% Purpose : User and sender names as mod_unread's commands accept them.
%%%
%%% "alice@example.com", "alice@example.com/res" or a bare "alice", which
%%% means alice on mod_unread's default host. Every name argument (the user
%%% of a command, the sender filter of unread_list) is read the same way, so
%%% a client sends names verbatim and never qualifies them itself.
%%%
%%% Pure functions of their arguments (the default host is passed in), so
%%% they can be tested without a running ejabberd. Malformed names throw
%%% {invalid_parameter, Msg}, which ejabberd's commands turn into an error
%%% (HTTP 400).
%%%----------------------------------------------------------------------
-module(mod_unread_jid).

-export([user/3, sender/2]).

-include("xmpp.hrl").

%% {LUser, LServer} of a user name; no_default_host for a bare name when
%% there is no default host. IsIndexedHost(Host) says whether Host is one
%% of the (already lower-case) hosts the index holds: names that stringprep
%% would leave as they are skip it, the common case, and stringprep is most
%% of the cost of a count.
-spec user(binary(), binary() | undefined, fun((binary()) -> boolean())) ->
		  {binary(), binary()} | no_default_host.
user(User, DefaultHost, IsIndexedHost) ->
    case binary:split(User, <<"@">>) of
	[_Name] when DefaultHost == undefined ->
	    no_default_host;
	[Name] ->
	    {prep_user(Name, User), DefaultHost};
	[Name, Host] ->
	    case is_plain(Name) andalso IsIndexedHost(Host) of
		true ->
		    {Name, Host};
		false ->
		    #jid{luser = LUser, lserver = LServer} = parse_jid(User),
		    {LUser, LServer}
	    end
    end.

%% The bare JID "luser@lserver" of unread_list's sender filter, as the
%% index stores senders; <<>> (every sender) for <<>>.
-spec sender(binary(), binary() | undefined) -> binary() | no_default_host.
sender(<<>>, _DefaultHost) ->
    <<>>;
sender(From, DefaultHost) ->
    case user(From, DefaultHost, fun(_) -> false end) of
	{LUser, LServer} -> <<LUser/binary, $@, LServer/binary>>;
	no_default_host -> no_default_host
    end.

prep_user(Name, User) ->
    case is_plain(Name) of
	true -> Name;
	false ->
	    case jid:nodeprep(Name) of
		Prepped when Prepped == error; Prepped == <<>> ->
		    bad_param("Malformed user name: '~ts'", [User]);
		Prepped -> Prepped
	    end
    end.

%% Lower-case ASCII letters, digits, '.', '_' and '-': nodeprep's identity.
is_plain(<<>>) -> false;
is_plain(Name) -> is_plain_chars(Name).

is_plain_chars(<<>>) -> true;
is_plain_chars(<<C, Rest/binary>>)
  when (C >= $a andalso C =< $z) orelse (C >= $0 andalso C =< $9) orelse
       C == $. orelse C == $_ orelse C == $- ->
    is_plain_chars(Rest);
is_plain_chars(_) -> false.

%% A user JID: "example.com" alone names a server, not a user.
parse_jid(S) ->
    try jid:decode(S) of
	#jid{luser = <<>>} -> bad_param("Not a user JID: '~ts'", [S]);
	JID -> JID
    catch _:{bad_jid, _} -> bad_param("Malformed JID: '~ts'", [S])
    end.

bad_param(Fmt, Args) ->
    throw({invalid_parameter, iolist_to_binary(io_lib:format(Fmt, Args))}).
