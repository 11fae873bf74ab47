%%%----------------------------------------------------------------------
%%% File    : mod_unread_sql_schema.erl
%%% Purpose : The change log and triggers mod_unread_sql needs, made at
%%%           start when the SQL user may, and checked either way.
%%%
%%% The statements are the SQL files shipped in priv/sql, which operators
%%% who do not let ejabberd's SQL user run DDL run themselves: one source
%%% for both. Every statement is idempotent, so running them at every start
%%% costs a few milliseconds and changes nothing once they ran.
%%%----------------------------------------------------------------------
-module(mod_unread_sql_schema).

-export([ensure/1, file/1, statements/1]).


-spec ensure(binary()) -> ok | {error, iodata()}.
ensure(Host) ->
    {ok, Type} = mod_unread_sql:sql_type(Host),
    File = file(Type),
    case file:read_file(File) of
	{ok, Text} ->
	    Failed = [{S, E} || S <- statements(Text),
				E <- [ejabberd_sql:sql_query(Host, [S])],
				not ok(E)],
	    case missing(Host, Type) of
		[] ->
		    ok;
		{error, Reason} ->
		    {error, io_lib:format("cannot reach the SQL database (~p); mod_unread "
					  "starts on this host once it answers: run "
					  "`ejabberdctl restart_module ~ts mod_unread`",
					  [Reason, Host])};
		Missing ->
		    Why = case Failed of
			      [{_, E} | _] -> io_lib:format(" (creating them failed: ~p)", [E]);
			      [] -> ""
			  end,
		    {error, io_lib:format("the SQL database lacks ~ts~ts; run ~ts as the "
					  "database's owner, then `ejabberdctl "
					  "restart_module ~ts mod_unread`",
					  [lists:join(", ", Missing), Why, File, Host])}
	    end;
	{error, Reason} ->
	    {error, io_lib:format("cannot read ~ts: ~ts", [File, file:format_error(Reason)])}
    end.

ok({updated, _}) -> true;
ok({selected, _, _}) -> true;
ok({selected, _}) -> true;
ok(_) -> false.

%% What is missing of what mod_unread_sql uses, by name.
missing(Host, Type) ->
    Tables = [<<"mod_unread_log">>, <<"mod_unread_reader">>, <<"mod_unread_pruned">>,
	      <<"mod_unread_mark">>],
    case {count_tables(Host, Type), count_triggers(Host, Type)} of
	{{ok, Ts}, {ok, Tr}} ->
	    [T || T <- Tables, not lists:member(T, Ts)] ++
		[iolist_to_binary(["trigger ", T]) || T <- triggers(Type), not lists:member(T, Tr)];
	{{error, _} = E, _} -> E;
	{_, {error, _} = E} -> E
    end.

triggers(pgsql) ->
    [<<"mod_unread_spool_changed">>, <<"mod_unread_spool_truncated">>];
triggers(mysql) ->
    [<<"mod_unread_spool_deleted">>, <<"mod_unread_spool_updated">>].

count_tables(Host, pgsql) ->
    names(Host, [<<"select table_name from information_schema.tables where "
		   "table_schema = current_schema() and table_name like 'mod_unread_%'">>]);
count_tables(Host, mysql) ->
    names(Host, [<<"select table_name from information_schema.tables where "
		   "table_schema = database() and table_name like 'mod_unread_%'">>]).

count_triggers(Host, pgsql) ->
    names(Host, [<<"select tgname from pg_trigger where not tgisinternal and "
		   "tgrelid = 'spool'::regclass">>]);
count_triggers(Host, mysql) ->
    names(Host, [<<"select trigger_name from information_schema.triggers where "
		   "trigger_schema = database() and event_object_table = 'spool'">>]).

names(Host, Query) ->
    case ejabberd_sql:sql_query(Host, Query) of
	{selected, _, Rows} -> {ok, [iolist_to_binary(N) || [N] <- Rows]};
	Err -> {error, Err}
    end.

%% The SQL file for a database type, in the application's priv directory
%% (found beside ebin when the module runs from a bare ebin on the path).
-spec file(mysql | pgsql) -> file:filename().
file(Type) ->
    Priv = case code:priv_dir(mod_unread) of
	       {error, bad_name} ->
		   filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
	       Dir ->
		   Dir
	   end,
    filename:join([Priv, "sql", case Type of pgsql -> "pg.sql"; mysql -> "mysql.sql" end]).

%% A SQL file's statements: text up to a semicolon that ends a line, outside
%% $$-quoted function bodies; comment lines dropped.
-spec statements(binary()) -> [binary()].
statements(Text) ->
    Lines = [L || L <- binary:split(Text, <<"\n">>, [global]),
		  not is_comment(L)],
    [S || S <- split(Lines, [], false, []), S /= <<>>].

split([], [], _, Acc) ->
    lists:reverse(Acc);
split([], Cur, _, Acc) ->
    lists:reverse([join(Cur) | Acc]);
split([L | Rest], Cur, InBody, Acc) ->
    Quotes = length(binary:matches(L, <<"$$">>)),
    InBody1 = InBody xor (Quotes rem 2 == 1),
    Trimmed = string:trim(L, trailing),
    case not InBody1 andalso binary:last(<<" ", Trimmed/binary>>) == $; of
	true -> split(Rest, [], false, [join([Trimmed | Cur]) | Acc]);
	false -> split(Rest, [L | Cur], InBody1, Acc)
    end.

join(Lines) ->
    S = string:trim(iolist_to_binary(lists:join(<<"\n">>, lists:reverse(Lines)))),
    %% The statement's own semicolon goes: drivers take one statement.
    case binary:last(<<" ", S/binary>>) of
	$; -> binary:part(S, 0, byte_size(S) - 1);
	_ -> S
    end.

is_comment(L) ->
    case string:trim(L, leading) of
	<<"--", _/binary>> -> true;
	_ -> false
    end.
