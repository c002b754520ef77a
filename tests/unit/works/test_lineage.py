"""The lineage DAG: cycles refused, ancestors and descendants with depth, attribution."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.works import service
from app.works.models import WorkParent
from tests.unit.works.conftest import values


def ids(rows: list[tuple[service.Kin, int]]) -> list[tuple[int, int]]:
    return [(w.id, depth) for w, depth in rows]


def test_a_work_cannot_be_its_own_parent(db, world, make_work):
    work = make_work()
    with pytest.raises(ValidationFailed) as info:
        service.update_work(
            db, actor=world.member, work=work, values=values(parents=[str(work.id)])
        )
    assert "itself" in info.value.fields["parents"]


def test_a_direct_cycle_is_refused(db, world, make_work):
    a = make_work(title="A")
    b = make_work(title="B", parents=[a])
    with pytest.raises(ValidationFailed) as info:
        service.update_work(db, actor=world.member, work=a, values=values(parents=[str(b.id)]))
    assert "cycle" in info.value.fields["parents"]
    assert "B" in info.value.fields["parents"]
    assert service.parent_ids(db, a) == []


def test_an_indirect_cycle_is_refused(db, world, make_work):
    a = make_work(title="A")
    b = make_work(title="B", parents=[a])
    c = make_work(title="C", parents=[b])
    d = make_work(title="D", parents=[c])
    with pytest.raises(ValidationFailed) as info:
        service.update_work(db, actor=world.member, work=a, values=values(parents=[str(d.id)]))
    assert "cycle" in info.value.fields["parents"]
    # A diamond is not a cycle.
    e = make_work(title="E")
    service.update_work(
        db, actor=world.member, work=d, values=values(title="D", parents=[str(c.id), str(e.id)])
    )
    service.update_work(
        db, actor=world.member, work=e, values=values(title="E", parents=[str(a.id)])
    )
    assert ids(service.ancestors(db, d)) == [(c.id, 1), (e.id, 1), (a.id, 2), (b.id, 2)]


def test_ancestors_and_descendants_carry_their_shortest_depth(db, world, make_work):
    root = make_work(title="Root")
    mid = make_work(title="Mid", parents=[root])
    leaf = make_work(title="Leaf", parents=[mid, root])
    deep = make_work(title="Deep", parents=[leaf])
    assert ids(service.ancestors(db, deep)) == [(leaf.id, 1), (root.id, 2), (mid.id, 2)]
    assert ids(service.descendants(db, root)) == [(mid.id, 1), (leaf.id, 1), (deep.id, 2)]
    assert service.ancestors(db, root) == []
    assert service.descendants(db, deep) == []


def test_the_walk_stops_at_fifty_steps(db, world, make_work):
    chain = [make_work(title="W0")]
    for i in range(1, 56):
        chain.append(make_work(title=f"W{i}", parents=[chain[-1]]))
    rows = service.ancestors(db, chain[-1])
    assert len(rows) == service.MAX_DEPTH
    assert max(depth for _, depth in rows) == service.MAX_DEPTH
    assert len(service.descendants(db, chain[0])) == service.MAX_DEPTH


def test_the_trees_nest(db, world, make_work):
    root = make_work(title="Root")
    mid = make_work(title="Mid", parents=[root])
    leaf = make_work(title="Leaf", parents=[mid, root])
    tree = service.lineage_tree(db, leaf, up=True).nodes
    assert [n.work.title for n in tree] == ["Mid", "Root"]
    assert [n.work.title for n in tree[0].children] == ["Root"]
    assert tree[1].repeated
    assert not tree[0].children[0].repeated
    down = service.lineage_tree(db, root, up=False).nodes
    assert [n.work.title for n in down] == ["Leaf", "Mid"]


def test_a_limited_tree_holds_the_nearest_works_and_says_how_many_more(db, world, make_work):
    root = make_work(title="Root")
    children = [make_work(title=f"Child {i}", parents=[root]) for i in range(3)]
    make_work(title="Grandchild", parents=[children[0]])
    full = service.lineage_tree(db, root, up=False)
    assert (full.shown, full.total, full.complete) == (4, 4, True)
    assert [n.work.title for n in full.nodes[0].children] == ["Grandchild"]
    nearest = service.lineage_tree(db, root, up=False, limit=3)
    assert (nearest.shown, nearest.total, nearest.complete) == (3, 4, False)
    assert [n.work.title for n in nearest.nodes] == ["Child 0", "Child 1", "Child 2"]
    assert nearest.nodes[0].children == []


def test_a_work_reached_by_paths_of_many_lengths_is_walked_once(db, world, make_work):
    # A ladder: every rung derives from the one before and the one before that, so the top
    # is reached by exponentially many paths; the walk meets each work once.
    rungs = [make_work(title="R0")]
    rungs.append(make_work(title="R1", parents=[rungs[0]]))
    for i in range(2, 30):
        rungs.append(make_work(title=f"R{i}", parents=[rungs[-1], rungs[-2]]))
    walk = service.walk(db, rungs[0], up=False)
    assert len(walk.depths) == 29
    assert walk.depths[rungs[-1].id] == 15
    assert sum(len(v) for v in walk.following.values()) == 1 + 2 * 28


def test_attribution_credits_upstream(db, world, make_work):
    design = make_work(
        title="Miku character design",
        creator_name="Crypton",
        license="All rights reserved",
        medium="image",
    )
    dance = make_work(title="Rin's Dance", creator_name="Len", parents=[design])
    assert service.attribution(db, dance) == (
        '"Rin\'s Dance" by Len (CC BY 4.0), derived from '
        '"Miku character design" by Crypton (All rights reserved)'
    )
    assert service.attribution(db, design) == (
        '"Miku character design" by Crypton (All rights reserved)'
    )
    cover = make_work(title="Cover", creator_name="Kaito", license="", parents=[dance])
    assert service.attribution(db, cover) == (
        '"Cover" by Kaito (license not stated), derived from "Rin\'s Dance" by Len '
        '(CC BY 4.0); "Miku character design" by Crypton (All rights reserved)'
    )


def test_deleting_a_work_removes_its_edges(db, world, make_work):
    a = make_work(title="A")
    b = make_work(title="B", parents=[a])
    db.delete(a)
    db.flush()
    db.expire_all()
    assert db.query(WorkParent).filter_by(child_id=b.id).count() == 0
