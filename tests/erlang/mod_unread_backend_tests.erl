%% Which backend follows mod_offline's store: mod_unread_<db_type>, and no
%% backend (so mod_unread refuses the host) for a db_type without one.
-module(mod_unread_backend_tests).

-include_lib("eunit/include/eunit.hrl").

mnesia_test() ->
    ?assertEqual({ok, mod_unread_mnesia}, mod_unread:backend_for(mnesia)).

sql_test() ->
    ?assertEqual({ok, mod_unread_sql}, mod_unread:backend_for(sql)).

%% A db_type of ejabberd's set without a backend is refused.
redis_test() ->
    ?assertEqual({error, {no_backend, redis}}, mod_unread:backend_for(redis)).

%% An atom that exists while no module of that name does.
atom_without_module_test() ->
    ?assertEqual(mod_unread_made_up, list_to_existing_atom("mod_unread_made_up")),
    ?assertEqual({error, {no_backend, made_up}}, mod_unread:backend_for(made_up)).

refusal_states_test_() ->
    [?_assertEqual(<<"refused: mod_offline use_mam_for_storage is true">>,
		   mod_unread:refusal_state(use_mam_for_storage)),
     ?_assertEqual(<<"refused: no mod_unread backend for mod_offline db_type redis">>,
		   mod_unread:refusal_state({no_backend, redis})),
     ?_assertEqual(<<"refused: the SQL database lacks x">>,
		   mod_unread:refusal_state({backend, ["the SQL database ", <<"lacks x">>]}))].

%% How unread_stats names the store behind an index.
store_names_test_() ->
    [?_assertEqual(<<"mnesia">>, mod_unread:store_name(mnesia, undefined)),
     ?_assertEqual(<<"sql/pgsql">>, mod_unread:store_name(sql, pgsql)),
     ?_assertEqual(<<"sql/mysql">>, mod_unread:store_name(sql, mysql)),
     ?_assertEqual(<<"sql">>, mod_unread:store_name(sql, undefined)),
     ?_assertEqual(<<"mnesia">>, mod_unread:backend_name(<<"example.com">>, mod_unread_mnesia))].
