"""Member list page of an officer at the union root, on the 100,000-member dataset.

    python bench/bench_member_list.py [--db URL] [--runs 30]

Measures server time in-process (Flask test client: routing, scope, queries,
rendering; no network): the first page, a name search and a filter by unit.
Target (issue 2): median under 150 ms on SQLite.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import bench_app, bench_arguments, timed


def main() -> int:
    parser = bench_arguments(runs=30)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from webapp.extensions import db
    from webapp.models import DemoAccount, Member, OrgUnit
    from webapp.security.scope import acting_options

    with app.app_context():
        account = db.session.query(DemoAccount).filter_by(role="leader", scope="NTF").first()
        user = app.appbuilder.sm.find_user(username=account.username)
        key = next(o.key for o in acting_options(user) if o.role == "leader" and o.target_label.startswith("NTF"))
        common_name = (db.session.query(Member.last_name).group_by(Member.last_name)
                       .order_by(db.func.count().desc()).first()[0])
        branch = db.session.query(OrgUnit).filter(OrgUnit.level == "branch").order_by(OrgUnit.code).first()
        members_total = db.session.query(Member).count()
        db.session.remove()

    client = app.test_client()
    response = client.post("/login/", data={"username": account.username, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, "login failed"
    assert client.post("/acting/switch", data={"key": key}).status_code == 302
    # An officer confirms the duty of confidentiality once before the first member list.
    assert client.post("/confidentiality/", data={"confirm": "yes"}).status_code == 302

    pages = {
        "first page": "/memberview/list/",
        f"name search (contains '{common_name}')": f"/memberview/list/?_flt_2_last_name={common_name}",
        f"filter by unit ({branch.code})": f"/memberview/list/?_flt_0_home_unit={branch.id}",
    }
    results = {}
    for label, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = response.get_data(as_text=True)
        assert "Taushetsplikt" in page or "confidentiality" in page
        results[label] = timed(lambda url=url: client.get(url), args.runs)
    engine = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    print(f"member list, officer at the union root, {members_total} members, {engine}, {args.runs} runs each")
    for label, figures in results.items():
        print(f"  {label:<45} median {figures['median_ms']:7.1f} ms   p90 {figures['p90_ms']:7.1f} ms")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
